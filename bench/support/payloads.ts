import { brotliCompressSync, deflateRawSync } from 'node:zlib';

/** The payloads the benchmark commits: order-like JSON, and random bytes as the worst case. */
export const PAYLOADS = ['realistic', 'incompressible'] as const;
export type Payload = (typeof PAYLOADS)[number];

/** Each event's data, as JSON, is about this size. */
export const PAYLOAD_BYTES = 1_024;

/** Fixed, so that event `n` is the same in every system and every run. */
const SEED = 0x5eed_17;

/** An order as a shop's checkout might commit it: the realistic payload. */
export interface OrderData {
  readonly n: number;
  readonly orderId: string;
  readonly placedAt: string;
  readonly status: string;
  readonly channel: string;
  readonly customer: {
    readonly id: string;
    readonly name: string;
    readonly email: string;
    readonly phone: string;
    readonly loyaltyTier: string;
  };
  readonly shippingAddress: {
    readonly line1: string;
    readonly line2?: string;
    readonly city: string;
    readonly postcode: string;
    readonly country: string;
  };
  readonly currency: string;
  readonly items: readonly {
    readonly sku: string;
    readonly name: string;
    readonly quantity: number;
    readonly unitPriceCents: number;
    readonly totalCents: number;
  }[];
  readonly subtotalCents: number;
  readonly shippingCents: number;
  readonly taxCents: number;
  readonly totalCents: number;
  readonly payment: { readonly method: string; readonly last4: string; readonly authorizationId: string };
  readonly client: { readonly ip: string; readonly userAgent: string };
  readonly fulfilment: { readonly method: string; readonly promisedBy: string };
  readonly note?: string;
}

/** Random bytes in base64, the size of an order: the incompressible payload. */
export interface IncompressibleData {
  readonly n: number;
  readonly blob: string;
}

export type PayloadData = OrderData | IncompressibleData;

const FIRST_NAMES = [
  'Amelia',
  'Bruno',
  'Chiara',
  'Dmitri',
  'Elif',
  'Farah',
  'Grace',
  'Hiroshi',
  'Ines',
  'Jonas',
  'Kavya',
  'Liam',
  'Mei',
  'Nadia',
  'Oscar',
  'Priya',
  'Quentin',
  'Rosa',
  'Samir',
  'Tomasz',
  'Ulla',
  'Viktor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
];
const LAST_NAMES = [
  'Andersson',
  'Becker',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Horvat',
  'Ivanova',
  'Jansen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  "O'Brien",
  'Petrov',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Urbina',
  'Varga',
  'Weber',
  'Yilmaz',
  'Zielinski',
];
const MAIL_DOMAINS = ['example.com', 'mail.example.org', 'post.example.net', 'inbox.example.io'];
const STREETS = [
  'Station',
  'Mill',
  'Church',
  'Harbour',
  'Linden',
  'Oak',
  'Market',
  'Bridge',
  'Garden',
  'Kings',
];
const STREET_KINDS = ['Road', 'Street', 'Lane', 'Avenue', 'Way', 'Close'];
const CITIES: readonly (readonly [string, string, string])[] = [
  ['Lyon', 'FR', 'EUR'],
  ['Leeds', 'GB', 'GBP'],
  ['Utrecht', 'NL', 'EUR'],
  ['Porto', 'PT', 'EUR'],
  ['Austin', 'US', 'USD'],
  ['Graz', 'AT', 'EUR'],
  ['Bristol', 'GB', 'GBP'],
  ['Denver', 'US', 'USD'],
];
const ADJECTIVES = [
  'Organic',
  'Classic',
  'Compact',
  'Wireless',
  'Recycled',
  'Linen',
  'Ceramic',
  'Bamboo',
  'Waxed',
];
const NOUNS = [
  'Tea Towel',
  'Desk Lamp',
  'Backpack',
  'Water Bottle',
  'Notebook',
  'Mug',
  'Blanket',
  'Headphones',
  'Plant Pot',
];
const STATUSES = ['placed', 'paid', 'packed'];
const CHANNELS = ['web', 'ios', 'android', 'store'];
const TIERS = ['none', 'silver', 'gold'];
const PAYMENT_METHODS = ['card', 'paypal', 'klarna', 'apple-pay'];
const NOTES = [
  'Please leave the parcel with a neighbour if nobody is home.',
  'Ring twice, the bell is broken.',
  'Gift: no invoice in the box, please.',
  'Side door, after six.',
  'Please wrap each item separately.',
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/132.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15',
  'ShopApp/4.12.1 (iPhone; iOS 18.1)',
  'ShopApp/4.11.0 (Android 15; Pixel 8)',
];
const DELIVERY = ['standard', 'express', 'pickup-point', 'next-day'];
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
/** 2026-01-01T00:00:00Z: order timestamps walk on from here, a few seconds an order. */
const FIRST_ORDER_MS = Date.UTC(2026, 0, 1);

/**
 * The data of the `n`th event of a payload, the same on every call: for `realistic` an order of one
 * to five line items with varied ids, names, e-mail addresses, amounts, timestamps and an address,
 * about {@link PAYLOAD_BYTES} of JSON on average (from about 0.8 to 1.3 KB); for `incompressible`,
 * pseudo-random bytes in base64, exactly {@link PAYLOAD_BYTES} of JSON.
 *
 * @example
 * ```ts
 * payloadData('realistic', 7).customer.email; // 'nadia.becker41@example.com', say
 * JSON.stringify(payloadData('incompressible', 7)).length; // 1024
 * ```
 */
export function payloadData(payload: 'realistic', n: number): OrderData;
export function payloadData(payload: 'incompressible', n: number): IncompressibleData;
export function payloadData(payload: Payload, n: number): PayloadData;
export function payloadData(payload: Payload, n: number): PayloadData {
  return payload === 'realistic' ? order(n) : incompressible(n);
}

function order(n: number): OrderData {
  const random = seededRandom(n);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const id = (prefix: string, length: number) =>
    `${prefix}_${Array.from({ length }, () => pick([...BASE36])).join('')}`;
  const first = pick(FIRST_NAMES);
  const last = pick(LAST_NAMES);
  const [city, country, currency] = pick(CITIES);
  const items = Array.from({ length: between(1, 5) }, () => {
    const quantity = between(1, 4);
    const unitPriceCents = between(199, 14_999);
    return {
      sku: `SKU-${between(1000, 9999)}-${pick(['XS', 'S', 'M', 'L', 'XL', 'OS'])}`,
      name: `${pick(ADJECTIVES)} ${pick(NOUNS)}`,
      quantity,
      unitPriceCents,
      totalCents: quantity * unitPriceCents,
    };
  });
  const subtotalCents = items.reduce((sum, item) => sum + item.totalCents, 0);
  const shippingCents = subtotalCents > 5_000 ? 0 : pick([395, 495, 695]);
  const taxCents = Math.round(subtotalCents * pick([0.07, 0.2, 0.21]));
  const placedAtMs = FIRST_ORDER_MS + n * 4_000 + between(0, 3_999);
  const line2 = random() < 0.4 ? { line2: `Flat ${between(1, 40)}` } : {};
  const note = random() < 0.3 ? { note: pick(NOTES) } : {};
  return {
    n,
    orderId: id('ord', 16),
    placedAt: new Date(placedAtMs).toISOString(),
    status: pick(STATUSES),
    channel: pick(CHANNELS),
    customer: {
      id: id('cus', 12),
      name: `${first} ${last}`,
      email: `${ascii(first)}.${ascii(last)}${between(1, 99)}@${pick(MAIL_DOMAINS)}`,
      phone: `+${between(1, 49)} ${between(100, 999)} ${between(100_000, 9_999_999)}`,
      loyaltyTier: pick(TIERS),
    },
    shippingAddress: {
      line1: `${between(1, 240)} ${pick(STREETS)} ${pick(STREET_KINDS)}`,
      ...line2,
      city,
      postcode: `${between(10_000, 99_999)}`,
      country,
    },
    currency,
    items,
    subtotalCents,
    shippingCents,
    taxCents,
    totalCents: subtotalCents + shippingCents + taxCents,
    payment: {
      method: pick(PAYMENT_METHODS),
      last4: String(between(0, 9999)).padStart(4, '0'),
      authorizationId: id('auth', 16),
    },
    client: {
      ip: `${between(1, 223)}.${between(0, 255)}.${between(0, 255)}.${between(1, 254)}`,
      userAgent: pick(USER_AGENTS),
    },
    fulfilment: {
      method: pick(DELIVERY),
      promisedBy: new Date(placedAtMs + between(1, 5) * 86_400_000).toISOString().slice(0, 10),
    },
    ...note,
  };
}

function incompressible(n: number): IncompressibleData {
  const random = seededRandom(n);
  const length = PAYLOAD_BYTES - jsonBytes({ n, blob: '' });
  const bytes = Buffer.alloc(Math.ceil((length * 3) / 4) + 3);
  for (let offset = 0; offset + 4 <= bytes.length; offset += 4)
    bytes.writeUInt32LE(Math.floor(random() * 2 ** 32), offset);
  return { n, blob: bytes.toString('base64').slice(0, length) };
}

/** Compression ratios: uncompressed bytes ÷ compressed bytes (2 means half the size). */
export interface CompressionRatios {
  /** The mean size of one event's data as JSON. */
  readonly meanEventBytes: number;
  /** Each event compressed on its own, as a one-event commit would be. */
  readonly deflateRawSingle: number;
  readonly brotliSingle: number;
  /** Events compressed 100 together (their JSON array), as a commit of 100 might be. */
  readonly deflateRawBatch100: number;
  readonly brotliBatch100: number;
}

/**
 * The compression ratios of the first `sample` events of a payload, with node:zlib's deflate-raw
 * and brotli at their default settings (deflate level 6, brotli quality 11).
 *
 * @example
 * ```ts
 * compressionRatios('realistic', 1_000).deflateRawBatch100; // about 3
 * ```
 */
export function compressionRatios(payload: Payload, sample: number): CompressionRatios {
  if (!Number.isInteger(sample) || sample < 100 || sample % 100 !== 0)
    throw new RangeError(`sample must be a positive multiple of 100 (given ${sample})`);
  const events = Array.from({ length: sample }, (_, n) => JSON.stringify(payloadData(payload, n)));
  const total = events.reduce((sum, json) => sum + Buffer.byteLength(json), 0);
  const batches: string[] = [];
  for (let start = 0; start < sample; start += 100)
    batches.push(`[${events.slice(start, start + 100).join(',')}]`);
  const batchTotal = batches.reduce((sum, json) => sum + Buffer.byteLength(json), 0);
  const ratio = (texts: readonly string[], uncompressed: number, compress: (input: Buffer) => Buffer) =>
    round(uncompressed / texts.reduce((sum, text) => sum + compress(Buffer.from(text)).byteLength, 0));
  return {
    meanEventBytes: Math.round(total / sample),
    deflateRawSingle: ratio(events, total, (input) => deflateRawSync(input)),
    brotliSingle: ratio(events, total, (input) => brotliCompressSync(input)),
    deflateRawBatch100: ratio(batches, batchTotal, (input) => deflateRawSync(input)),
    brotliBatch100: ratio(batches, batchTotal, (input) => brotliCompressSync(input)),
  };
}

/** A generator of numbers in [0, 1) seeded by `n` (mulberry32): the same `n` gives the same numbers. */
function seededRandom(n: number): () => number {
  let state = (Math.imul(n + 1, 0x9e37_79b1) ^ SEED) >>> 0;
  return () => {
    state = (state + 0x6d2b_79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** A name as it appears in an e-mail address: lower case, ASCII letters only. */
function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
