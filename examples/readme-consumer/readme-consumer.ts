import { Consumer, OnRecords, ShardContext, inject } from 'shardline';

/** Where the consumer sends its alerts: a Slack webhook, an SNS topic… Injected through {@link NOTIFIER}. */
export interface Notifier {
  notify(message: string): Promise<void>;
}

/** Injection token of the {@link Notifier}. */
export const NOTIFIER = Symbol('Notifier');

/** An order as producers write it to the stream. */
export interface Order {
  readonly id: string;
  readonly amount: number;
}

/** Sends a notification for every order of 1,000 or more; checkpoints after every batch. */
@Consumer({ streamName: 'orders', applicationName: 'big-order-alerts' })
export class BigOrderAlerts {
  constructor(
    @inject(NOTIFIER) private readonly notifier: Notifier,
    private readonly shard: ShardContext,
  ) {}

  @OnRecords({ decode: 'json' })
  async handle(orders: Order[]): Promise<void> {
    for (const order of orders.filter((o) => o.amount >= 1000)) {
      await this.notifier.notify(`Big order ${order.id}: ${order.amount}`);
    }
    this.shard.logger.info(`Checked ${orders.length} orders`);
  }
}
