// A terminal client of startExec for the tmux test (test/runtime/exec.test.ts): runs in a tmux pane, puts
// the pane's terminal in raw mode, starts `exec -it` with the pane's size, passes keys in and output out,
// follows the pane's resizes, and writes the exit code to the result file before exiting with it.
// argv: RESULT_FILE TARGET_JSON CMD...
import { writeFileSync } from 'node:fs';
import { type ExecTarget, startExec } from '../../pkg/runtime/exec.ts';

async function main(): Promise<void> {
  const [resultFile, targetJson, ...cmd] = process.argv.slice(2);
  if (!resultFile || !targetJson || cmd.length === 0)
    throw new Error('usage: RESULT_FILE TARGET_JSON CMD...');
  const target = JSON.parse(targetJson) as ExecTarget;
  process.stdin.setRawMode(true);
  const session = await startExec(target, {
    cmd,
    tty: true,
    stdin: true,
    size: { rows: process.stdout.rows, cols: process.stdout.columns },
  });
  process.stdout.on('resize', () => {
    void session.resize({ rows: process.stdout.rows, cols: process.stdout.columns });
  });
  process.stdin.on('data', (chunk) => session.stdin?.write(chunk));
  session.stdout.pipe(process.stdout, { end: false });
  const { exitCode } = await session.exit;
  writeFileSync(resultFile, `${exitCode}\n`);
  process.exit(exitCode);
}

main().catch((err: unknown) => {
  writeFileSync(process.argv[2] ?? '/dev/null', `error: ${(err as Error).message}\n`);
  process.exit(125);
});
