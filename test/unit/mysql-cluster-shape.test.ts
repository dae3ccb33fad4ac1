// spillway/mysql's createPoolCluster is mysql2's own PoolCluster with Spillway pools as nodes; its add()
// writes the cluster's private node table. This fails when a mysql2 update changes that shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mysql from 'mysql2';
import { checkClusterShape } from '../../src/compat/mysql/mysql-pool-cluster.js';
import { createPoolCluster } from '../../src/mysql-callback.js';

test("mysql2's PoolCluster still has the private fields createPoolCluster's add() writes", () => {
  assert.doesNotThrow(() => checkClusterShape(mysql.createPoolCluster()));
  assert.throws(() => checkClusterShape({ _nodes: {} }), /changed PoolCluster/);
});

test('add() puts a Spillway pool (named after the node) in the node table, as mysql2 would its own', async () => {
  const cluster = createPoolCluster();
  cluster.add('NODE1', { host: '127.0.0.1', user: 'nobody' });
  cluster.add({ host: '127.0.0.1', user: 'nobody' });
  const nodes = (cluster as unknown as { _nodes: Record<string, { pool: { spillway: { name: string } } }> })._nodes;
  assert.deepEqual(Object.keys(nodes), ['NODE1', 'CLUSTER::1']);
  assert.equal(nodes.NODE1?.pool.spillway.name, 'NODE1');
  await new Promise<void>((resolve) => cluster.end(() => resolve()));
});
