/** Message move tasks on SQLite. */
import type Database from 'better-sqlite3';
import type { MoveTaskRow } from '../types.js';
import { TASK_COLUMNS, taskValues, toTask, type TaskColumns } from '../rows.js';

export class TaskTable {
  private readonly s;
  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      ins: p(
        `INSERT INTO move_tasks (task_handle, source_queue_id, source_arn, destination_arn, max_per_second, status,
           started_at, moved, to_move, failure_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      bySource: p('SELECT * FROM move_tasks WHERE source_queue_id = ? ORDER BY started_at DESC'),
      one: p('SELECT * FROM move_tasks WHERE task_handle = ?'),
      active: p("SELECT * FROM move_tasks WHERE status IN ('RUNNING', 'CANCELLING')"),
      dropQueue: p('DELETE FROM move_tasks WHERE source_queue_id = ?'),
    };
  }

  insert(t: MoveTaskRow): void {
    this.s.ins.run(...taskValues(t));
  }

  bySource(queueId: number): MoveTaskRow[] {
    return (this.s.bySource.all(queueId) as TaskColumns[]).map(toTask);
  }

  one(handle: string): MoveTaskRow | undefined {
    const r = this.s.one.get(handle) as TaskColumns | undefined;
    return r && toTask(r);
  }

  active(): MoveTaskRow[] {
    return (this.s.active.all() as TaskColumns[]).map(toTask);
  }

  update(handle: string, patch: Partial<MoveTaskRow>): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = TASK_COLUMNS[k as keyof MoveTaskRow];
      if (!col) continue;
      sets.push(`${col} = ?`);
      vals.push(v ?? null);
    }
    if (sets.length)
      this.db.prepare(`UPDATE move_tasks SET ${sets.join(', ')} WHERE task_handle = ?`).run(...vals, handle);
  }

  dropQueue(queueId: number): void {
    this.s.dropQueue.run(queueId);
  }
}
