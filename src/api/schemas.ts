// Request and response schemas, defined once: Fastify validates with them and @fastify/swagger
// publishes them at /docs. Limits come from src/domain/order.ts, the same ones the processor checks.
import { LIMITS } from '../domain/order.js';

const id = (what: string) => ({ type: 'string', pattern: LIMITS.idPattern, maxLength: LIMITS.idMaxLength, description: `${what}: 1-64 characters of A-Z a-z 0-9 . _ -` }) as const;

export const errorBody = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'HTTP reason phrase' },
    message: { type: 'string' },
    field: { type: 'string', description: 'the request field that failed validation (400 only)' },
    reason: { type: 'string', enum: ['ALREADY_CANCELLED', 'NOT_ACCEPTED'], description: 'why a cancellation was refused (409 only)' },
    dependency: { type: 'string', enum: ['kafka', 'postgres', 'registry', 'jwks'], description: 'the dependency that is unavailable (503 only, sent with Retry-After)' },
  },
} as const;

export const orderRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['productId', 'qty', 'unitPrice'],
  properties: {
    productId: id('product id'),
    qty: { type: 'integer', minimum: LIMITS.qtyMin, maximum: LIMITS.qtyMax },
    unitPrice: { type: 'integer', minimum: LIMITS.unitPriceMin, maximum: LIMITS.unitPriceMax, description: 'minor currency units' },
  },
} as const;

export const order = {
  $id: 'Order',
  type: 'object',
  required: ['orderId', 'userId', 'productId', 'qty', 'unitPrice', 'totalPrice', 'createdAt', 'status'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    userId: { type: 'string' },
    productId: { type: 'string' },
    qty: { type: 'integer' },
    unitPrice: { type: 'integer' },
    totalPrice: { type: 'integer', description: 'qty × unitPrice (at most 10^15)' },
    createdAt: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['PENDING', 'ACCEPTED', 'REJECTED', 'CANCELLED'] },
    reason: { type: 'string', enum: ['OUT_OF_STOCK', 'UNKNOWN_PRODUCT', 'PRICE_MISMATCH'], description: 'why the order was REJECTED' },
    cancelledAt: { type: 'string', format: 'date-time', description: 'CANCELLED orders only' },
  },
} as const;

/** The body is optional: an empty request is `{}` (see the route's preValidation). */
export const cancelRequest = {
  type: 'object',
  additionalProperties: false,
  properties: {
    productId: { ...id('product id'), description: "the order's product; needed only to cancel an order that is still PENDING" },
  },
} as const;

/** 202: the cancellation is durable in Kafka, not applied yet. */
export const cancellation = {
  type: 'object',
  required: ['cancellationId', 'orderId', 'userId', 'productId', 'status'],
  properties: {
    cancellationId: { type: 'string', format: 'uuid' },
    orderId: { type: 'string', format: 'uuid' },
    userId: { type: 'string' },
    productId: { type: 'string' },
    status: { type: 'string', enum: ['PENDING'] },
  },
} as const;

export const stockRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['add'],
  properties: {
    add: { type: 'integer', minimum: LIMITS.addMin, maximum: LIMITS.addMax, description: 'units to add to the stock' },
  },
} as const;

export const restock = {
  type: 'object',
  required: ['restockId', 'productId', 'add', 'status'],
  properties: {
    restockId: { type: 'string', format: 'uuid' },
    productId: { type: 'string' },
    add: { type: 'integer' },
    status: { type: 'string', enum: ['PENDING', 'STOCKED'] },
    stock: { type: 'integer', description: 'STOCKED only: the stock read after this restock was applied (later changes may be in it)' },
  },
} as const;

export const userParams = {
  type: 'object',
  required: ['userId'],
  properties: { userId: id('user id') },
} as const;

export const orderParams = {
  type: 'object',
  required: ['userId', 'orderId'],
  properties: { userId: id('user id'), orderId: { type: 'string', format: 'uuid' } },
} as const;

export const orderHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': { type: 'string', minLength: 1, maxLength: 255, description: 'the same user + key always yields the same orderId' },
    prefer: { type: 'string', maxLength: 200, description: "wait=N (seconds): answer with the processor's verdict, or PENDING (202) after N s" },
  },
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: { type: 'string', maxLength: 200, description: 'from the X-Next-Cursor header of the previous page' },
  },
} as const;

export const catalogItem = {
  $id: 'CatalogItem',
  type: 'object',
  required: ['productId', 'productName', 'stock', 'unitPrice', 'createdAt'],
  properties: {
    productId: { type: 'string' },
    productName: { type: 'string' },
    stock: { type: 'integer' },
    unitPrice: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const productParams = {
  type: 'object',
  required: ['productId'],
  properties: { productId: id('product id') },
} as const;

export const catalogPut = {
  type: 'object',
  additionalProperties: false,
  required: ['productName', 'unitPrice', 'stock'],
  properties: {
    // PostgreSQL text cannot hold NUL characters.
    productName: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000]+$' },
    unitPrice: { type: 'integer', minimum: LIMITS.unitPriceMin, maximum: LIMITS.unitPriceMax },
    stock: { type: 'integer', minimum: 0, maximum: 1_000_000_000_000 },
  },
} as const;

export const catalogQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 },
    after: { ...id('product id'), description: 'list products after this productId' },
  },
} as const;

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));
export const responses = { errors };
