// The live dashboard: polls the service's JSON endpoints about once a second and draws uPlot charts.
// Plain browser JavaScript, no build step: the service serves this file and uPlot as they are.
(() => {
  const POLL_MS = 1000;
  const KEEP_POINTS = 180; // three minutes at one sample a second
  const CIRCUIT_LEVEL = { closed: 0, 'half-open': 1, open: 2 };

  // A bearer token for protected endpoints can be given as /dashboard#token=...
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const headers = token ? { authorization: `Bearer ${token}` } : {};

  const $ = (id) => document.getElementById(id);

  /** One chart: a time axis plus named series, fed one point per poll. */
  function makeChart(containerId, series, options = {}) {
    const container = $(containerId);
    const data = [[], ...series.map(() => [])];
    const plot = new uPlot(
      {
        width: Math.max(300, container.clientWidth - 20),
        height: 200,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: s.fill,
            paths: options.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          })),
        ],
        scales: {
          x: { time: true },
          y: options.range ? { range: options.range } : { range: (_u, _min, max) => [0, Math.max(max, options.minMax ?? 1)] },
        },
        axes: [
          // Whole seconds as wall-clock time, not uPlot's sub-second ticks.
          {
            space: 70,
            incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300],
            values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString()),
          },
          { size: 50 },
        ],
        legend: { live: false },
      },
      data,
      container,
    );
    return {
      push(time, values) {
        data[0].push(time);
        values.forEach((v, i) => {
          data[i + 1].push(v === undefined || v === null || Number.isNaN(v) ? null : v);
        });
        if (data[0].length > KEEP_POINTS) for (const column of data) column.shift();
        plot.setData(data);
      },
      resize() {
        plot.setSize({ width: Math.max(300, container.clientWidth - 20), height: 200 });
      },
    };
  }

  const percentileSeries = [
    { label: 'p50', color: '#2563eb' },
    { label: 'p95', color: '#d97706' },
    { label: 'p99', color: '#dc2626' },
  ];
  const charts = {
    connections: makeChart('chart-connections', [
      { label: 'idle', color: '#16a34a' },
      { label: 'used', color: '#2563eb' },
      { label: 'overflow', color: '#9333ea' },
      { label: 'max', color: '#94a3b8' },
    ]),
    waiting: makeChart('chart-waiting', [{ label: 'waiting', color: '#dc2626', fill: 'rgba(220,38,38,0.1)' }]),
    checkout: makeChart('chart-checkout', percentileSeries),
    query: makeChart('chart-query', percentileSeries),
    errors: makeChart('chart-errors', [
      { label: 'queries failing', color: '#dc2626' },
      { label: 'checkouts failing', color: '#d97706' },
    ]),
    circuit: makeChart('chart-circuit', [{ label: 'breaker', color: '#b91c1c' }], { stepped: true, range: [0, 2] }),
  };
  window.addEventListener('resize', () => {
    for (const chart of Object.values(charts)) chart.resize();
  });

  // Relative to the page: <prefix>/dashboard reads <prefix>/health/pool, whatever the prefix.
  const base = new URL('.', location.href);

  async function getJson(path) {
    const response = await fetch(new URL(path, base), { headers, cache: 'no-store' });
    // /health/detailed answers 503 with its full report when the pool is unhealthy: still data.
    if (!response.ok && response.status !== 503) throw new Error(`${path} answered ${response.status}`);
    return response.json();
  }

  const percent = (rate) => (typeof rate === 'number' ? rate * 100 : undefined);

  function renderAlerts(alerts) {
    const active = Array.isArray(alerts?.active) ? alerts.active : Array.isArray(alerts) ? alerts : [];
    const recent = Array.isArray(alerts?.recent) ? alerts.recent : [];
    const activeKeys = new Set(active.map((a) => `${a.type}@${a.at}`));
    const shown = [...active, ...recent.filter((a) => !activeKeys.has(`${a.type}@${a.at}`))].slice(0, 30);
    const list = $('alerts');
    list.replaceChildren();
    if (shown.length === 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'none';
      list.append(li);
      return;
    }
    for (const alert of shown) {
      const li = document.createElement('li');
      li.className = `alert ${alert.severity ?? ''}`;
      li.dataset.type = alert.type ?? '';
      const type = document.createElement('span');
      type.className = 'type';
      type.textContent = `${alert.severity ?? ''} ${alert.type ?? ''}`.trim();
      const when = alert.at ? new Date(alert.at).toLocaleTimeString() : '';
      li.append(type, document.createTextNode(`${alert.message ?? ''} ${when ? `(${when})` : ''}`));
      if (activeKeys.has(`${alert.type}@${alert.at}`)) {
        const tag = document.createElement('span');
        tag.className = 'active';
        tag.textContent = 'active';
        li.append(tag);
      }
      list.append(li);
    }
  }

  function setBadge(id, text) {
    const badge = $(id);
    badge.textContent = text ?? '?';
    badge.className = `badge ${text ?? ''}`;
  }

  async function poll() {
    const time = Date.now() / 1000;
    try {
      const [pool, summary, detailed] = await Promise.all([
        getJson('health/pool'),
        getJson('metrics/performance/summary').catch(() => undefined),
        getJson('health/detailed').catch(() => undefined),
      ]);
      const overflow = pool.overflow ?? 0;
      charts.connections.push(time, [pool.checkedIn, pool.checkedOut, overflow, pool.max ?? pool.size + pool.maxOverflow]);
      charts.waiting.push(time, [pool.waiting]);
      const checkout = summary?.checkoutWaitMs ?? {};
      const query = summary?.queryMs ?? {};
      charts.checkout.push(time, [checkout.p50, checkout.p95, checkout.p99]);
      charts.query.push(time, [query.p50, query.p95, query.p99]);
      const rates = summary?.failureRates ?? {};
      charts.errors.push(time, [percent(rates.query), percent(rates.checkout)]);
      const circuit = typeof detailed?.circuit === 'string' ? detailed.circuit : detailed?.circuit?.state;
      charts.circuit.push(time, [CIRCUIT_LEVEL[circuit]]);
      $('pool-name').textContent = pool.name ? `pool "${pool.name}"` : '';
      setBadge('status', detailed?.status);
      setBadge('circuit', circuit);
      $('utilization').textContent = typeof pool.utilization === 'number' ? `${Math.round(pool.utilization * 100)}%` : '?';
      renderAlerts(detailed?.alerts);
      $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
      $('fetch-error').hidden = true;
    } catch (error) {
      $('fetch-error').hidden = false;
      $('fetch-error').textContent = `cannot read the service: ${error.message}`;
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }
  poll();
})();
