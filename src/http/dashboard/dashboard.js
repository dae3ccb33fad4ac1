// The live dashboard: polls the service's JSON endpoints about once a second and draws uPlot charts.
// Plain browser JavaScript, no build step: the service serves this file and uPlot as they are.
(() => {
  const POLL_MS = 1000;
  const KEEP_POINTS = 180; // three minutes at one sample a second
  const CIRCUIT_STATES = ['closed', 'half-open', 'open'];
  const SEVERITY_ORDER = { critical: 0, warning: 1 };

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
            dash: s.dash,
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
          { size: options.axisSize ?? 50, ...(options.yAxis ?? {}) },
        ],
        legend: { live: false },
      },
      data,
      container,
    );
    return {
      plot,
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

  // Counts (connections, waiters) are whole numbers: ticks at 0.5 would mean nothing.
  const COUNT_AXIS = { yAxis: { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] } };
  const percentileSeries = [
    { label: 'p50', color: '#2563eb' },
    { label: 'p95', color: '#d97706' },
    { label: 'p99', color: '#dc2626' },
  ];
  const charts = {
    connections: makeChart(
      'chart-connections',
      [
        { label: 'idle', color: '#16a34a' },
        { label: 'used', color: '#2563eb' },
        { label: 'overflow', color: '#9333ea' },
        { label: 'max', color: '#94a3b8' },
      ],
      COUNT_AXIS,
    ),
    throughput: makeChart('chart-throughput', [
      { label: 'statements/s', color: '#2563eb', fill: 'rgba(37,99,235,0.08)' },
      // Dashed: on SQLite every statement is one checkout, and a solid line would hide the other.
      { label: 'checkouts/s', color: '#16a34a', dash: [6, 4] },
    ]),
    waiting: makeChart('chart-waiting', [{ label: 'waiting', color: '#dc2626', fill: 'rgba(220,38,38,0.1)' }], COUNT_AXIS),
    checkout: makeChart('chart-checkout', percentileSeries),
    query: makeChart('chart-query', percentileSeries),
    errors: makeChart('chart-errors', [
      { label: 'queries failing', color: '#dc2626' },
      { label: 'checkouts failing', color: '#d97706' },
    ]),
    // Three states, so three ticks, named: a numeric axis showed 0.5 and 1.5, which mean nothing.
    circuit: makeChart('chart-circuit', [{ label: 'breaker', color: '#b91c1c' }], {
      stepped: true,
      range: [0, 2],
      axisSize: 70,
      yAxis: { splits: () => [0, 1, 2], values: (_u, ticks) => ticks.map((t) => CIRCUIT_STATES[t] ?? '') },
    }),
  };
  window.addEventListener('resize', () => {
    for (const chart of Object.values(charts)) chart.resize();
  });
  // The uPlot instances, for a page that embeds this one and for the browser test.
  window.spillwayDashboard = { charts: Object.fromEntries(Object.entries(charts).map(([name, chart]) => [name, chart.plot])) };

  // Relative to the page: <prefix>/dashboard reads <prefix>/health/pool, whatever the prefix.
  const base = new URL('.', location.href);

  /** Thrown when a protected endpoint refuses the request: no token, or the wrong one. */
  class TokenError extends Error {}

  async function getJson(path) {
    const response = await fetch(new URL(path, base), { headers, cache: 'no-store' });
    if (response.status === 401) throw new TokenError(path);
    // /health/detailed answers 503 with its full report when the pool is unhealthy: still data.
    if (!response.ok && response.status !== 503) throw new Error(`${path} answered ${response.status}`);
    return response.json();
  }

  /** A protected endpoint: its data, or `undefined` with the refusal noted (the banner says so). */
  async function getProtected(path, refusals) {
    try {
      return await getJson(path);
    } catch (error) {
      if (error instanceof TokenError) refusals.push(path);
      return undefined;
    }
  }

  function showTokenBanner(refused) {
    const banner = $('token-banner');
    banner.hidden = !refused;
    if (!refused) return;
    banner.className = `banner ${token ? 'token-refused' : 'token-required'}`;
    banner.textContent = token
      ? 'Token refused: the service did not accept the token given in this address (#token=…). Health, alerts and latency are not shown.'
      : 'Token required: this service protects its health, alerts and latency with a bearer token. Open this page as /dashboard#token=<your token>.';
  }

  const percent = (rate) => (typeof rate === 'number' ? rate * 100 : undefined);
  const perSecond = (rate) => (typeof rate !== 'number' ? '?' : rate >= 10 ? String(Math.round(rate)) : rate.toFixed(1));

  /** Per-second rates of the summary's counters since the previous poll (none after a restart). */
  let previousTotals;
  function rates(time, totals) {
    const before = previousTotals;
    previousTotals = totals ? { time, queries: totals.queries, checkouts: totals.checkouts } : undefined;
    if (!before || !totals) return [undefined, undefined];
    const seconds = time - before.time;
    const rate = (now, then) =>
      typeof now === 'number' && typeof then === 'number' && now >= then && seconds > 0 ? (now - then) / seconds : undefined;
    return [rate(totals.queries, before.queries), rate(totals.checkouts, before.checkouts)];
  }

  function listItem(className, text) {
    const li = document.createElement('li');
    li.className = className;
    li.textContent = text;
    return li;
  }

  /**
   * One row per alert type: the active alert if there is one, else the newest fired. A condition
   * that resolves and comes back within its cooldown is one active alert whose time differs from the
   * recent one's, so listing both showed circuit_open twice.
   */
  function renderAlerts(alerts) {
    const active = Array.isArray(alerts?.active) ? alerts.active : Array.isArray(alerts) ? alerts : [];
    const recent = Array.isArray(alerts?.recent) ? alerts.recent : [];
    const byType = new Map();
    for (const alert of active) if (!byType.has(alert.type)) byType.set(alert.type, { alert, active: true, times: 0 });
    for (const alert of recent) {
      const row = byType.get(alert.type) ?? { alert, active: false, times: 0 };
      row.times++;
      byType.set(alert.type, row);
    }
    const rows = [...byType.values()].sort(
      (a, b) =>
        Number(b.active) - Number(a.active) ||
        (SEVERITY_ORDER[a.alert.severity] ?? 2) - (SEVERITY_ORDER[b.alert.severity] ?? 2) ||
        (b.alert.at ?? 0) - (a.alert.at ?? 0),
    );
    const list = $('alerts');
    list.replaceChildren();
    if (rows.length === 0) {
      list.append(listItem('muted', 'none'));
      return;
    }
    for (const { alert, active: isActive, times } of rows) {
      const li = document.createElement('li');
      li.className = `alert ${alert.severity ?? ''}`;
      li.dataset.type = alert.type ?? '';
      const type = document.createElement('span');
      type.className = 'type';
      type.textContent = `${alert.severity ?? ''} ${alert.type ?? ''}`.trim();
      const when = alert.at ? new Date(alert.at).toLocaleTimeString() : '';
      const count = times > 1 ? `, fired ${times} times recently` : '';
      li.append(type, document.createTextNode(`${alert.message ?? ''} ${when ? `(${when}${count})` : ''}`));
      if (isActive) {
        const tag = document.createElement('span');
        tag.className = 'active';
        tag.textContent = 'active';
        li.append(tag);
      }
      list.append(li);
    }
  }

  /**
   * One row per pool the database owns (SQLite adds its writer): what it lends, who waits, and the
   * counters an operator looks at first. A writer queue that times out shows here.
   */
  function renderPools(pools) {
    const body = $('pools').tBodies[0];
    body.replaceChildren();
    for (const p of Array.isArray(pools) ? pools : []) {
      const row = document.createElement('tr');
      row.dataset.role = p.role ?? '';
      const cells = [
        [p.name, false],
        [p.role, false],
        [`${p.checkedOut ?? '?'} of ${p.max ?? '?'}`, false],
        [p.waiting, p.waiting > 0],
        [p.timeouts, p.timeouts > 0],
        [p.leaks, p.leaks > 0],
        [p.circuit, p.circuit !== undefined && p.circuit !== 'closed'],
      ];
      for (const [text, warn] of cells) {
        const cell = document.createElement('td');
        cell.textContent = text === undefined ? '?' : String(text);
        if (warn) cell.className = 'warn';
        row.append(cell);
      }
      body.append(row);
    }
  }

  function setBadge(id, text, fallback) {
    const badge = $(id);
    badge.textContent = text ?? fallback;
    badge.className = `badge ${text ?? 'unknown'}`;
  }

  async function poll() {
    const time = Date.now() / 1000;
    try {
      const refusals = [];
      const [pool, summary, detailed] = await Promise.all([
        getJson('health/pool'),
        getProtected('metrics/performance/summary', refusals),
        getProtected('health/detailed', refusals),
      ]);
      const locked = refusals.length > 0;
      showTokenBanner(locked);
      const overflow = pool.overflow ?? 0;
      charts.connections.push(time, [pool.checkedIn, pool.checkedOut, overflow, pool.max ?? pool.size + pool.maxOverflow]);
      const [statementsPerSecond, checkoutsPerSecond] = rates(time, summary?.totals);
      charts.throughput.push(time, [statementsPerSecond, checkoutsPerSecond]);
      $('throughput-now').textContent =
        statementsPerSecond === undefined
          ? ''
          : `${perSecond(statementsPerSecond)} statements/s, ${perSecond(checkoutsPerSecond)} checkouts/s`;
      charts.waiting.push(time, [pool.waiting]);
      const checkout = summary?.checkoutWaitMs ?? {};
      const query = summary?.queryMs ?? {};
      charts.checkout.push(time, [checkout.p50, checkout.p95, checkout.p99]);
      charts.query.push(time, [query.p50, query.p95, query.p99]);
      const failureRates = summary?.failureRates ?? {};
      charts.errors.push(time, [percent(failureRates.query), percent(failureRates.checkout)]);
      const circuit = typeof detailed?.circuit === 'string' ? detailed.circuit : detailed?.circuit?.state;
      charts.circuit.push(time, [CIRCUIT_STATES.indexOf(circuit) >= 0 ? CIRCUIT_STATES.indexOf(circuit) : undefined]);
      $('pool-name').textContent = pool.name ? `pool "${pool.name}"` : '';
      const unknown = locked ? (token ? 'token refused' : 'token required') : '?';
      setBadge('status', detailed?.status, unknown);
      setBadge('circuit', circuit, unknown);
      renderPools(pool.pools);
      $('utilization').textContent = typeof pool.utilization === 'number' ? `${Math.round(pool.utilization * 100)}%` : '?';
      if (detailed !== undefined) renderAlerts(detailed.alerts);
      else $('alerts').replaceChildren(listItem('muted', locked ? `unknown (${unknown})` : 'unknown'));
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
