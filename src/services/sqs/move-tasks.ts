/**
 * Message move tasks (DLQ redrive): each pass moves, per running task, as many messages as its
 * rate allows since the last pass. A lease per task makes exactly one node run it.
 */
import type { MoveTaskRow, QueueRef, QueueRow } from '../../store/sqs/types.js';
import type { SqsService } from './service.js';

/** SQS picks the rate when the caller does not; the documented maximum is 500 per second. */
const DEFAULT_RATE = 500;
const MAX_STEP = 1000;

export class MoveTaskRunner {
  private readonly lastStep = new Map<string, number>();
  constructor(private readonly svc: SqsService) {}

  async runOnce(rows: QueueRow[]): Promise<void> {
    const tasks = await this.svc.store.activeMoveTasks();
    if (!tasks.length) return;
    const byArn = new Map<string, QueueRef>();
    const byId = new Map<number, QueueRow>();
    for (const q of rows) {
      byArn.set(this.svc.arn(q), await this.svc.ref(q));
      byId.set(q.id, q);
    }
    for (const t of tasks) {
      const now = this.svc.clock.now();
      if (!(await this.svc.kernel.tryLease(`move:${t.taskHandle}`, this.svc.nodeId, now, 10_000))) continue;
      await this.step(t, byArn, byId, now);
    }
  }

  private async step(t: MoveTaskRow, byArn: Map<string, QueueRef>, byId: Map<number, QueueRow>, now: number) {
    const store = this.svc.store;
    if (t.status === 'CANCELLING') {
      await store.updateMoveTask(t.taskHandle, { status: 'CANCELLED' });
      this.lastStep.delete(t.taskHandle);
      return;
    }
    const source = byId.get(t.sourceQueueId);
    const fixed = t.destinationArn ? byArn.get(t.destinationArn) : undefined;
    if (!source || (t.destinationArn && !fixed)) {
      await store.updateMoveTask(t.taskHandle, {
        status: 'FAILED',
        failureReason: 'AWS.SimpleQueueService.NonExistentQueue',
      });
      return;
    }
    const since = this.lastStep.get(t.taskHandle) ?? t.startedAt;
    const rate = t.maxPerSecond ?? DEFAULT_RATE;
    const budget = Math.min(MAX_STEP, Math.floor(((now - since) * rate) / 1000));
    if (budget < 1) return;
    this.lastStep.set(t.taskHandle, now);
    const sourceRef = byArn.get(this.svc.arn(source))!;
    const { moved, failed } = await store.moveMessages(
      sourceRef,
      (origin) => fixed ?? (origin ? byArn.get(origin) : undefined),
      budget,
      now,
    );
    const patch: Partial<MoveTaskRow> = { moved: t.moved + moved };
    if (failed > 0 && moved === 0) {
      patch.status = 'FAILED';
      patch.failureReason = 'CouldNotDetermineMessageSource';
    } else if (moved + failed < budget) {
      patch.status = 'COMPLETED';
    }
    if (patch.status) this.lastStep.delete(t.taskHandle);
    await store.updateMoveTask(t.taskHandle, patch);
  }
}
