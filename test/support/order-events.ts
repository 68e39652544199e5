/**
 * A deterministic generator of order-like events of about 1 KB of JSON each: varied ids, names,
 * e-mail addresses, amounts, timestamps, an address and one to five line items. The same seed gives
 * the same events, so size bounds and compression figures can be checked in tests.
 *
 * @example
 * ```ts
 * const orders = orderEvents(100, 7); // 100 `{ type, data }` pairs
 * ```
 */
export function orderEvents(count: number, seed = 1): { type: string; data: unknown }[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const digits = (length: number): string => Array.from({ length }, () => Math.floor(random() * 10)).join('');
  const hex = (length: number): string =>
    Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
  const events: { type: string; data: unknown }[] = [];
  let time = Date.parse('2024-05-01T12:00:00.000Z');
  for (let index = 0; index < count; index += 1) {
    time += Math.floor(random() * 5_000);
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const items = Array.from({ length: 1 + Math.floor(random() * 5) }, () => {
      const quantity = 1 + Math.floor(random() * 4);
      const unitPrice = Math.round(random() * 20_000) / 100;
      return {
        sku: `${pick(SKU_PREFIXES)}-${digits(6)}`,
        category: pick(CATEGORIES),
        name: `${pick(ADJECTIVES)} ${pick(PRODUCTS)}`,
        quantity,
        unitPrice,
        total: Math.round(quantity * unitPrice * 100) / 100,
      };
    });
    const subtotal = Math.round(items.reduce((sum, item) => sum + item.total, 0) * 100) / 100;
    events.push({
      type: pick(['order.placed', 'order.paid', 'order.shipped']),
      data: {
        orderId: `ord_${hex(16)}`,
        customer: {
          id: `cus_${hex(12)}`,
          name: `${first} ${last}`,
          email: `${first.toLowerCase()}.${last.toLowerCase()}${digits(2)}@${pick(DOMAINS)}`,
          phone: `+${digits(2)} ${digits(3)} ${digits(3)} ${digits(4)}`,
        },
        placedAt: new Date(time).toISOString(),
        currency: pick(['EUR', 'USD', 'GBP']),
        subtotal,
        tax: Math.round(subtotal * 0.2 * 100) / 100,
        shipping: {
          method: pick(['standard', 'express', 'pickup']),
          cost: Math.round(random() * 1_500) / 100,
          address: {
            line1: `${1 + Math.floor(random() * 300)} ${pick(STREETS)}`,
            city: pick(CITIES),
            postalCode: digits(5),
            country: pick(['FR', 'DE', 'GB', 'NL', 'US', 'ES']),
          },
        },
        items,
        payment: {
          method: pick(['card', 'paypal', 'transfer']),
          reference: `pay_${hex(20)}`,
          capturedAt: new Date(time + Math.floor(random() * 60_000)).toISOString(),
        },
        source: {
          channel: pick(['web', 'ios', 'android', 'pos']),
          ip: `${digits(2)}.${digits(3)}.${digits(2)}.${digits(3)}`,
          session: `ses_${hex(24)}`,
        },
        notes:
          random() < 0.3 ? `Leave at the ${pick(['door', 'reception', 'neighbour', 'back gate'])}.` : null,
      },
    });
  }
  return events;
}

/**
 * Printable ASCII (no quote, no backslash) that compression cannot shrink once written in base64:
 * a body of it stays plain, so size limits can be reached exactly.
 *
 * @example
 * ```ts
 * const data = incompressibleText(5_000);
 * ```
 */
export function incompressibleText(length: number, seed = 1): string {
  const random = mulberry32(seed);
  const codes = new Uint16Array(length);
  for (let index = 0; index < length; index += 1) {
    const code = 0x23 + Math.floor(random() * 0x5c);
    codes[index] = code === 0x5c ? 0x7e : code;
  }
  let text = '';
  for (let start = 0; start < length; start += 8_192)
    text += String.fromCharCode(...codes.subarray(start, start + 8_192));
  return text;
}

/** A small seeded random number generator, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST_NAMES = [
  'Alice',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Emma',
  'Farid',
  'Greta',
  'Hugo',
  'Inès',
  'Jonas',
  'Keiko',
  'Lucas',
  'Maya',
  'Noah',
  'Olga',
  'Pablo',
];
const LAST_NAMES = [
  'Martin',
  'Schmidt',
  'Dubois',
  'Rossi',
  'García',
  'Nowak',
  'Jensen',
  'Smith',
  'Tanaka',
  'Silva',
  'Müller',
  'Leroy',
  'Costa',
  'Novak',
];
const DOMAINS = ['example.com', 'mail.example.org', 'post.example.net', 'inbox.example.fr'];
const SKU_PREFIXES = ['BK', 'EL', 'HM', 'GD', 'TY', 'SP'];
const ADJECTIVES = ['Blue', 'Compact', 'Deluxe', 'Organic', 'Wireless', 'Vintage', 'Large', 'Travel'];
const PRODUCTS = [
  'kettle',
  'headphones',
  'notebook',
  'lamp',
  'backpack',
  'teapot',
  'chair',
  'blanket',
  'charger',
];
const STREETS = [
  'Rue de la Paix',
  'Hauptstraße',
  'High Street',
  'Keizersgracht',
  'Main Street',
  'Calle Mayor',
];
const CATEGORIES = ['kitchen', 'audio', 'stationery', 'lighting', 'outdoor', 'furniture', 'textiles'];
const CITIES = ['Lyon', 'Berlin', 'Leeds', 'Amsterdam', 'Portland', 'Sevilla', 'Nantes', 'Munich'];
