import { z } from 'zod';
import { apiSchemas, REQUEST_SCHEMAS } from './openai-schemas.ts';

/** All named schemas, cross-referenced as #/components/schemas/…; requests described by their input. */
function componentSchemas(): Record<string, unknown> {
  const opts = { uri: (id: string) => `#/components/schemas/${id}`, unrepresentable: 'any' as const };
  const input = z.toJSONSchema(apiSchemas, { ...opts, io: 'input' }).schemas;
  const output = z.toJSONSchema(apiSchemas, { ...opts, io: 'output' }).schemas;
  const out: Record<string, unknown> = {};
  for (const id of Object.keys(output)) {
    const {
      $schema: _drop,
      $id: _id,
      ...rest
    } = (REQUEST_SCHEMAS.has(id) ? input[id] : output[id]) as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const errors = {
  '400': errorResponse('Invalid request'),
  '401': errorResponse('Missing or bad API key'),
  '403': errorResponse('Feature not available for the plan (rollout gate)'),
  '404': errorResponse('Unknown model or job'),
  '413': errorResponse('Body too large'),
  '415': errorResponse('Wrong Content-Type for the body'),
  '429': errorResponse('Rate limited or shed; see retry-after, retry-after-ms, x-ratelimit-*'),
  '503': errorResponse('Temporarily unavailable; see retry-after'),
};

const asyncHeaders = {
  Prefer: {
    in: 'header',
    name: 'Prefer',
    schema: { type: 'string' },
    description: '`respond-async` (optionally `, wait=N`) to get 202 + Location instead of waiting',
  },
  IdempotencyKey: {
    in: 'header',
    name: 'Idempotency-Key',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
};

function imageOperation(summary: string, requestContent: Record<string, unknown>) {
  return {
    summary,
    parameters: [asyncHeaders.Prefer, asyncHeaders.IdempotencyKey],
    requestBody: { required: true, content: requestContent },
    responses: {
      '200': {
        description: 'The images (JSON), or with `stream: true` an SSE stream of ImageStreamEvent',
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/ImagesResponse' } },
          'text/event-stream': { schema: sseEvent('#/components/schemas/ImageStreamEvent') },
        },
      },
      '202': {
        description: 'Queued (Prefer: respond-async); poll the Location',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageJob' } } },
      },
      ...errors,
    },
  };
}

/**
 * One server-sent event: `event` names it and `data` is a JSON document of the given schema (how
 * OpenAPI tools such as schemathesis read an SSE response, event by event).
 */
function sseEvent(dataRef: string): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      event: { type: 'string' },
      id: { type: 'string' },
      retry: { type: 'integer' },
      data: { type: 'string', contentMediaType: 'application/json', contentSchema: { $ref: dataRef } },
    },
    required: ['data'],
  };
}

/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(): Record<string, unknown> {
  const jobParam = { in: 'path', name: 'id', required: true, schema: { type: 'string' } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Spillway',
      version: '0.1.0',
      description: 'OpenAI Images compatible API with async jobs, served under load shedding.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: componentSchemas(),
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/images/generations': {
        post: imageOperation('Create images from a prompt', {
          'application/json': { schema: { $ref: '#/components/schemas/ImageGenerationRequest' } },
        }),
      },
      '/v1/images/edits': {
        post: imageOperation('Edit images', {
          'multipart/form-data': { schema: { $ref: '#/components/schemas/ImageEditRequest' } },
        }),
      },
      '/v1/images/jobs/{id}': {
        get: {
          summary: 'A job: state, queue position, estimated wait, result',
          parameters: [jobParam],
          responses: {
            '200': {
              description: 'The job',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageJob' } } },
            },
            ...errors,
          },
        },
        delete: {
          summary: 'Cancel a job',
          parameters: [jobParam],
          responses: {
            '200': {
              description: 'Cancelled',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageJob' } } },
            },
            '409': errorResponse('Already finished'),
            ...errors,
          },
        },
      },
      '/v1/images/jobs/{id}/events': {
        get: {
          summary:
            'SSE: job.queued (position), job.running (pass k/n), job.partial_image, then a terminal event',
          parameters: [jobParam],
          responses: {
            '200': {
              description: 'Event stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors,
          },
        },
      },
      '/v1/signup': {
        post: {
          summary: 'Create a free account and its API key (rate limited per client and globally)',
          security: [],
          responses: {
            '201': {
              description: 'The new key',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/SignupResponse' } } },
            },
            '429': errors['429'],
          },
        },
      },
      '/admin/keys': {
        post: {
          summary: 'Create an API key for a tier and lane (admin token)',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/AdminKeyRequest' } } },
          },
          responses: {
            '201': {
              description: 'The new key',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/AdminKeyResponse' } } },
            },
            ...errors,
          },
        },
      },
      '/admin/keys/{keyId}': {
        delete: {
          summary: 'Revoke a key (admin token)',
          parameters: [{ in: 'path', name: 'keyId', required: true, schema: { type: 'string' } }],
          responses: { '204': { description: 'Revoked' }, ...errors },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: queue and store usable',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': errorResponse('Not ready') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'Text exposition' } },
        },
      },
    },
  };
}
