/**
 * docs/reference/api.md, made from the OpenAPI document the API serves (cli/openapi.ts): each path
 * and method, its summary, parameters, request and response fields. The document is plain JSON
 * Schema objects; this walks them without a schema library.
 */
import {OPENAPI} from '../openapi.js';
import {cell, code, page, table} from './markdown.js';

interface Schema {
  type?: string;
  format?: string;
  nullable?: boolean;
  enum?: unknown[];
  description?: string;
  example?: unknown;
  minimum?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Response {
  description: string;
  content?: Record<string, {schema?: Schema}>;
}
interface Operation {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: {required?: boolean; content: Record<string, {schema?: Schema}>};
  responses: Record<string, Response>;
}
type PathItem = Record<string, Operation | Parameter[] | undefined> & {parameters?: Parameter[]};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function typeText(schema: Schema): string {
  let text = schema.type === 'array' ? `array of ${schema.items?.type ?? 'any'}` : (schema.type ?? 'any');
  if (schema.format) text += ` (${schema.format})`;
  if (schema.enum) text += `: ${schema.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  if (schema.nullable) text += ', or null';
  return text;
}

const hasFields = (schema: Schema | undefined) => Boolean(schema?.properties ?? schema?.oneOf);

/** Every field of a schema as rows: dotted names, `[]` for an array's items, each alternative of oneOf. */
function fieldRows(schema: Schema, prefix = ''): string[][] {
  if (schema.oneOf)
    return schema.oneOf.flatMap((alternative, index) => [
      [`*one of (${index + 1})*`, '', ''],
      ...fieldRows(alternative, prefix),
    ]);
  if (schema.type === 'array' && hasFields(schema.items)) return fieldRows(schema.items!, `${prefix}[]`);
  const rows: string[][] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const full = prefix === '' ? name : `${prefix}.${name}`;
    const notes = [
      schema.required?.includes(name) ? 'required' : '',
      field.description ?? '',
      field.minimum === undefined ? '' : `at least ${field.minimum}`,
      field.example === undefined ? '' : `e.g. ${JSON.stringify(field.example)}`,
    ].filter(Boolean);
    rows.push([code(full), typeText(field), notes.join('; ')]);
    if (field.properties || field.oneOf) rows.push(...fieldRows(field, full));
    else if (field.type === 'array' && field.items?.properties)
      rows.push(...fieldRows(field.items, `${full}[]`));
  }
  return rows;
}

function schemaPart(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const rows = fieldRows(schema);
  if (rows.length === 0) return [`A JSON ${typeText(schema)}.`];
  return [
    schema.type === 'array' ? 'A JSON array of objects with these fields:' : '',
    table(['field', 'type', 'notes'], rows),
  ].filter(Boolean);
}

function operationPart(path: string, method: string, operation: Operation, shared: Parameter[]): string {
  const parts = [`### ${method.toUpperCase()} ${path}`];
  if (operation.summary) parts.push(cell(operation.summary) + '.');
  if (operation.description) parts.push(operation.description);
  if (operation.security?.length === 0) parts.push('No credentials needed.');
  const parameters = [...shared, ...(operation.parameters ?? [])];
  if (parameters.length > 0)
    parts.push(
      table(
        ['parameter', 'in', 'type', 'notes'],
        parameters.map((parameter) => [
          code(parameter.name),
          parameter.in,
          parameter.schema ? typeText(parameter.schema) : '',
          [parameter.required ? 'required' : '', parameter.description ?? ''].filter(Boolean).join('; '),
        ]),
      ),
    );
  if (operation.requestBody)
    for (const [type, body] of Object.entries(operation.requestBody.content))
      parts.push(
        `Request body (${code(type)}${operation.requestBody.required ? ', required' : ''}):`,
        ...schemaPart(body.schema),
      );
  const errors: string[] = [];
  for (const [status, response] of Object.entries(operation.responses)) {
    if (response.description === 'An error') {
      errors.push(status);
      continue;
    }
    const types = Object.keys(response.content ?? {});
    parts.push(
      `**${status}**: ${cell(response.description)}${types.length ? ` (${types.map(code).join(', ')})` : ''}`,
    );
    for (const content of Object.values(response.content ?? {})) parts.push(...schemaPart(content.schema));
  }
  if (errors.length > 0)
    parts.push(`Errors: ${errors.join(', ')}, each \`{"error": MESSAGE, "code": CODE}\`.`);
  return parts.join('\n\n');
}

export function apiPage(): string {
  const paths = OPENAPI.paths as unknown as Record<string, PathItem>;
  const sections: string[] = [];
  const index: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    const shared = item.parameters ?? [];
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      index.push(`| ${method.toUpperCase()} | ${code(path)} | ${cell(operation.summary)} |`);
      sections.push(operationPart(path, method, operation, shared));
    }
  }
  const schemes = OPENAPI.components.securitySchemes as Record<string, {description?: string}>;
  return page('HTTP API reference', 'the OpenAPI document, cli/openapi.ts (served at GET /openapi.json)', [
    OPENAPI.info.description,
    'Credentials: ' +
      Object.entries(schemes)
        .map(([name, scheme]) => `${code(name)}: ${cell(scheme.description)}`)
        .join('; ') +
      '. Errors are `{"error": MESSAGE, "code": CODE}` with the HTTP status; `code` is one of the [exit codes](exit-codes.md)’ names.',
    ['| method | path | summary |', '| --- | --- | --- |', ...index].join('\n'),
    '## Paths',
    ...sections,
  ]);
}
