/** AWS operation name → handler. Every SQS action, served identically over Query and JSON. */
import type { RequestContext } from '../../kernel/context.js';
import type { SqsService } from './service.js';
import * as queues from './operations/queues.js';
import * as tags from './operations/tags.js';
import * as perms from './operations/permissions.js';
import * as send from './operations/send.js';
import * as receive from './operations/receive.js';
import * as del from './operations/delete.js';
import * as move from './operations/move-tasks.js';

export type Handler = (svc: SqsService, ctx: RequestContext, input: Record<string, unknown>) => Promise<unknown>;

export const sqsOperations: Record<string, Handler> = {
  AddPermission: perms.addPermission,
  CancelMessageMoveTask: move.cancelMessageMoveTask,
  ChangeMessageVisibility: del.changeMessageVisibility,
  ChangeMessageVisibilityBatch: del.changeMessageVisibilityBatch,
  CreateQueue: queues.createQueue,
  DeleteMessage: del.deleteMessage,
  DeleteMessageBatch: del.deleteMessageBatch,
  DeleteQueue: queues.deleteQueue,
  GetQueueAttributes: queues.getQueueAttributes,
  GetQueueUrl: queues.getQueueUrl,
  ListDeadLetterSourceQueues: queues.listDeadLetterSourceQueues,
  ListMessageMoveTasks: move.listMessageMoveTasks,
  ListQueueTags: tags.listQueueTags,
  ListQueues: queues.listQueues,
  PurgeQueue: queues.purgeQueue,
  ReceiveMessage: receive.receiveMessage,
  RemovePermission: perms.removePermission,
  SendMessage: send.sendMessage,
  SendMessageBatch: send.sendMessageBatch,
  SetQueueAttributes: queues.setQueueAttributes,
  StartMessageMoveTask: move.startMessageMoveTask,
  TagQueue: tags.tagQueue,
  UntagQueue: tags.untagQueue,
};
