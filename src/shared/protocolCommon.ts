// What the two webview protocols (chatProtocol.ts, dashboardProtocol.ts) share: a few shapes, the
// type-map helpers, the zod field builders and the one parser the host runs every incoming message
// through (the webview is untrusted input). Webviews import this file with `import type` only.
import { z } from 'zod';
import { MAX_ID_CHARS } from './protocolLimits';

export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** An agent's key: set, missing, or not needed (a local server that takes none). */
export type KeyStatus = 'set' | 'missing' | 'not-needed';

/** A message with no payload besides its type. */
export type Empty = Record<never, never>;

/** A type map (`{'chat/stop': {messageId}}`) as the union of its messages (`{type: 'chat/stop', messageId}`). */
export type MessagesOf<Map> = { [K in keyof Map]: { type: K } & Map[K] }[keyof Map];

/** Any message of either protocol. */
export interface TypedMessage {
  type: string;
}

/** One schema per message type of a protocol, each tied to its message's type. */
export type MessageSchemas<M extends TypedMessage> = { readonly [K in M['type']]: z.ZodType<Extract<M, { type: K }>, unknown> };

export type ParsedMessage<M extends TypedMessage> =
  | { ok: true; message: M }
  /** `type` is set when the message named a known type (so the host can answer, e.g. in the chat). */
  | { ok: false; error: string; type?: M['type'] };

// ---- field builders ----------------------------------------------------------------------------

const count = (n: number): string => n.toLocaleString('en-US');

/** What a reason says of a value: its kind, a short string itself, a long one only by its length. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${count(value.length)} characters` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

export function cappedString(field: string, max: number, min = 0) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? `${field} is missing` : `${field} must be a string (got ${describe(iss.input)})`) })
    .min(min, { error: `${field} is empty` })
    .max(max, {
      error: (iss) => `${field} is too long (${typeof iss.input === 'string' ? count(iss.input.length) : '?'} characters; at most ${count(max)})`,
    });
}

export const boolField = (field: string) =>
  z.boolean({ error: (iss) => (iss.input === undefined ? `${field} is missing` : `${field} must be true or false (got ${describe(iss.input)})`) });

/** An id (session, message, agent): not empty, at most MAX_ID_CHARS. */
export const idField = (field: string) => cappedString(field, MAX_ID_CHARS, 1);

export function msg<K extends string, S extends z.ZodRawShape>(type: K, shape: S) {
  return z.object({ type: z.literal(type), ...shape });
}

// ---- parsing -----------------------------------------------------------------------------------

/**
 * Parses a message from a webview against its own protocol's schemas. Never throws: anything that
 * is not exactly one of the protocol's messages (wrong shape, wrong types, a type of another view,
 * oversized strings) comes back as `{ok: false, error}` with a reason a person can read. The reason
 * names fields, kinds and lengths; of a value it shows at most 40 characters of a string that
 * should not have been one.
 */
export function parseMessage<M extends TypedMessage>(schemas: MessageSchemas<M>, raw: unknown): ParsedMessage<M> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: `message is not an object (got ${describe(raw)})` };
  }
  const type: unknown = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, error: `message has no "type" string (got ${describe(type)})` };
  // Own keys only: "constructor" or "__proto__" is not a message type.
  if (!Object.prototype.hasOwnProperty.call(schemas, type)) {
    const shown = type.length > 60 ? `${type.slice(0, 60)}…` : type;
    return { ok: false, error: `unknown message type "${shown}"` };
  }
  const known = type as M['type'];
  const schema: z.ZodType<M, unknown> = schemas[known];
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  const reasons = parsed.error.issues.slice(0, 3).map((issue) => {
    // A missing field reports "got undefined" through our own messages; name the field.
    const field = issue.path.map(String).join('.');
    return issue.message.startsWith(field) || field === '' ? issue.message : `${field}: ${issue.message}`;
  });
  return { ok: false, type: known, error: `${type}: ${reasons.join('; ')}` };
}
