// `mailferry` entry point: the full-screen UI by default, headless subcommands for scripts.
// Subcommands are imported lazily so `mailferry batch status` never loads React and Ink.

import {readFileSync} from 'node:fs';

const HELP = `mailferry — move many people's mailboxes from one IMAP server to another, in batches

Usage
  mailferry                      open the full-screen UI (needs a terminal)
  mailferry demo                 start a local source and target Dovecot and open the UI on them
  mailferry test-endpoint ...    test a server step by step (DNS, TCP, TLS, greeting, login, folders)
  mailferry check-csv FILE       check a migration CSV and list every problem
  mailferry batch ...            create, start, stop, resume, sync-now, complete, status, report, remove

Run "mailferry <command> --help" for the options of a command.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string};
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const opensUi = command === undefined || command === '--ascii' || command === '--no-color' || command === '--state-dir';
  if (opensUi || command === 'demo') {
    // React's development build is several times slower per frame and keeps profiling data;
    // it must be chosen before React is first loaded.
    process.env['NODE_ENV'] ??= 'production';
  }
  if (command === 'demo') {
    const {runUi} = await import('./ui/run-ui.js');
    return (await import('./headless/demo-command.js')).runDemo(rest, runUi);
  }
  if (opensUi) {
    const {runUi} = await import('./ui/run-ui.js');
    const {defaultStateDir} = await import('./store/state-dir.js');
    const stateDirIndex = argv.indexOf('--state-dir');
    const stateDir = stateDirIndex >= 0 && argv[stateDirIndex + 1] ? argv[stateDirIndex + 1]! : defaultStateDir();
    return runUi({stateDir, argv});
  }
  switch (command) {
    case 'batch':
      return (await import('./headless/batch-command.js')).runBatchCommand(rest);
    case 'test-endpoint':
      return (await import('./headless/test-endpoint-command.js')).runTestEndpoint(rest);
    case 'check-csv':
      return (await import('./headless/check-csv-command.js')).runCheckCsv(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`mailferry: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mailferry: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
