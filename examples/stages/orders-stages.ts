import { defineStages, type ResolvedStages, type StageHandler } from '../../lib';

/** A raw order line as the shop's export writes it: `"<orderId>,<quantity>,<unit price>"`. */
export type RawOrder = { readonly line: string };
/** An order line, parsed. */
export type OrderLine = { readonly orderId: string; readonly quantity: number; readonly unitPrice: number };
/** An order line with its total, ready to load. */
export type PricedOrder = OrderLine & { readonly total: number };

/** Where the example's last stage loads orders; the default keeps them in memory. */
export type OrderSink = (order: PricedOrder) => Promise<void> | void;

/** Settings of {@link orderStages}. */
export interface OrderStagesOptions {
  /** @default 'orders' */
  readonly name?: string;
  /** The stream raw order lines are committed to. @default 'orders.raw' */
  readonly source?: string;
  /** Where `load` writes. @default nowhere: the stage only passes orders on to `<name>.loaded` */
  readonly sink?: OrderSink;
}

const extract: StageHandler<RawOrder, OrderLine> = (event) => {
  const [orderId = '', quantity = '', unitPrice = ''] = event.data.line.split(',');
  return { orderId, quantity: Number(quantity), unitPrice: Number(unitPrice) };
};

const transform: StageHandler<OrderLine, PricedOrder> = (event) => {
  const { quantity, unitPrice } = event.data;
  // A line no retry can mend: with onStageError 'skip' it goes straight to the failed handler.
  if (!(quantity > 0) || !(unitPrice >= 0))
    throw new Error(`order ${event.data.orderId} has quantity ${quantity} and unit price ${unitPrice}`);
  return { ...event.data, total: Math.round(quantity * unitPrice * 100) / 100 };
};

/**
 * The example three-stage pipeline: `extract` parses raw order lines, `transform` prices them
 * (skipping lines that make no sense), `load` hands each priced order to a sink and records it on
 * `<name>.loaded`. Each stage is a pipeline of its own; each hands its result to the next with its
 * acknowledgement.
 *
 * @example
 * ```ts
 * const local = await startLocalStages({ stages: orderStages(), fetcherIntervalMs: 500 });
 * await local.eventLog.commit({ stream: 'orders.raw', type: 'order.exported', data: { line: 'o-1,2,9.50' } });
 * await local.waitForIdle();
 * ```
 */
export function orderStages(options: OrderStagesOptions = {}): ResolvedStages {
  const name = options.name ?? 'orders';
  const load: StageHandler<PricedOrder, PricedOrder> = async (event) => {
    await options.sink?.(event.data);
    return event.data;
  };
  return defineStages({
    name,
    source: { stream: options.source ?? 'orders.raw', start: 'earliest' },
    stages: [
      { name: 'extract', handle: extract, output: { type: 'order.extracted' } },
      {
        name: 'transform',
        handle: transform,
        output: { type: 'order.priced' },
        onStageError: 'skip',
      },
      {
        name: 'load',
        handle: load,
        output: { stream: `${name}.loaded`, type: 'order.loaded' },
        concurrency: 4,
      },
    ],
  });
}
