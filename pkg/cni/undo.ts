// Rollback of a failed ADD: each step pushes its undo right after it created something, and a failure runs
// the undos in reverse order, so the ADD leaves nothing half-made. The ADD's own error is the one reported.
import { CniError, toCniError } from './errors.ts';

export class UndoStack {
  private readonly undos: { readonly what: string; readonly run: () => Promise<unknown> }[] = [];

  /** Registers the undo of something just created; `what` names it in a rollback failure. */
  push(what: string, run: () => Promise<unknown>): void {
    this.undos.push({ what, run });
  }

  /** Runs every undo, last pushed first; one failing does not stop the others. Returns the failures. */
  async unwind(): Promise<string[]> {
    const failures: string[] = [];
    for (let undo = this.undos.pop(); undo; undo = this.undos.pop()) {
      try {
        await undo.run();
      } catch (err) {
        failures.push(`${undo.what}: ${(err as Error).message}`);
      }
    }
    return failures;
  }
}

/**
 * Runs `operation` with an undo stack; when it throws, the stack is unwound and the operation's error is
 * rethrown (as a CniError, naming what the rollback could not remove, if anything).
 */
export async function withUndo<T>(operation: (undo: UndoStack) => Promise<T>): Promise<T> {
  const undo = new UndoStack();
  try {
    return await operation(undo);
  } catch (err) {
    const failures = await undo.unwind();
    if (failures.length === 0) throw err;
    const cause = toCniError(err);
    const left = `rollback incomplete, left behind: ${failures.join('; ')}`;
    throw new CniError(cause.code, cause.msg, cause.details ? `${cause.details}; ${left}` : left, {
      cause: err,
    });
  }
}
