import { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { SYNC_QUEUES } from './sync.service';

/** The BullMQ queue of a target inside a running worker (tests). */
export function getQueueToken(app: INestApplicationContext, target: string): Queue {
  return app.get<Map<string, Queue>>(SYNC_QUEUES).get(target)!;
}
