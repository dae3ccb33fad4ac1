import { startService } from '../../service/start-service.js';
import { intFlag, parseCommand } from '../args.js';
import type { Command } from '../command.js';

const spec = {
  name: 'serve',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    url: { type: 'string' },
    'no-seed': { type: 'boolean' },
  },
  help: `Usage: spillway serve [--port N] [--host H] [--url URL] [--no-seed]

Run the reference service: the health and metrics endpoints, a small users/authors/books API and
the live dashboard at /dashboard. The schema is created on start (retried while the database is
unreachable, up to DB_POOL_INIT_TIMEOUT) and sample data is loaded into an empty database.

  --port N      port to listen on (default PORT or 8000; 0 picks a free one)
  --host H      address to listen on (default HOST or 127.0.0.1)
  --url URL     the database (default DATABASE_URL or sqlite:./data/spillway.db)
  --no-seed     do not load the sample data
  -h, --help    show this help

Pool settings come from the DB_* environment (see README). On SIGTERM or SIGINT /ready answers 503;
SHUTDOWN_DELAY seconds later (default 0) the listener closes, and in-flight requests then get
SHUTDOWN_GRACE seconds (default 10) to finish. A request whose headers take longer than
HEADERS_TIMEOUT (default 10) or whose whole body takes longer than REQUEST_TIMEOUT (default 30)
seconds to arrive gets 408.`,
} as const;

/** `spillway serve`: run the reference service until SIGTERM or SIGINT. */
export const serveCommand: Command = {
  name: spec.name,
  async run(argv) {
    const parsed = parseCommand(spec, argv);
    if (parsed === undefined) return 0;
    const { values } = parsed;
    const port = values.port === undefined ? undefined : intFlag('serve', 'port', values.port, 8000, 0, 65535);
    const running = await startService({
      ...(port === undefined ? {} : { port }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values.url === undefined ? {} : { url: values.url }),
      seed: !values['no-seed'],
    });
    await new Promise<void>((resolve) => {
      let draining = false;
      // The handlers stay for the whole drain: Ctrl-C under `npm start` delivers SIGINT twice (the
      // terminal signals the process group, and npm forwards its own copy), and a second signal
      // without a handler would kill the process mid-drain. SHUTDOWN_DELAY + SHUTDOWN_GRACE bound it.
      const onSignal = (signal: NodeJS.Signals) => {
        if (draining) return;
        draining = true;
        process.stdout.write(`spillway serve: ${signal}, draining\n`);
        running.stop().then(resolve, resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    return 0;
  },
};
