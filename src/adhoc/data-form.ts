/**
 * XEP-0004 data forms: writing the forms the bot offers and reading what a client submits. Reading is defensive
 * (a submission is peer input): bounded counts and lengths, unknown fields ignored, and a clear message when the
 * submission is not a form at all.
 */
import xml, { type Element } from '@xmpp/xml';

export const DATA_NS = 'jabber:x:data';

export type FieldType = 'fixed' | 'hidden' | 'list-single' | 'list-multi' | 'text-single' | 'text-multi' | 'jid-single' | 'boolean';

export interface FieldOption {
  value: string;
  label?: string;
}

export interface FormField {
  var: string;
  type: FieldType;
  label?: string;
  desc?: string;
  required?: boolean;
  options?: readonly FieldOption[];
  /** Default (or previously submitted) values. */
  values?: readonly string[];
}

export interface Form {
  type: 'form' | 'result';
  title?: string;
  instructions?: string;
  fields: readonly FormField[];
}

/** What a client submitted: field var → its values, in order. */
export type Submitted = ReadonlyMap<string, readonly string[]>;

export const MAX_SUBMITTED_FIELDS = 50;
export const MAX_VALUES_PER_FIELD = 100;
export const MAX_VALUE_LENGTH = 4096;

export function formElement(form: Form): Element {
  return xml(
    'x',
    { xmlns: DATA_NS, type: form.type },
    ...(form.title !== undefined ? [xml('title', {}, form.title)] : []),
    ...(form.instructions !== undefined ? [xml('instructions', {}, form.instructions)] : []),
    ...form.fields.map(fieldElement),
  );
}

function fieldElement(field: FormField): Element {
  const attrs: Record<string, string> = { var: field.var, type: field.type };
  if (field.label !== undefined) attrs.label = field.label;
  return xml(
    'field',
    attrs,
    ...(field.desc !== undefined ? [xml('desc', {}, field.desc)] : []),
    ...(field.required ? [xml('required')] : []),
    ...(field.options ?? []).map((o) => xml('option', o.label !== undefined ? { label: o.label } : {}, xml('value', {}, o.value))),
    ...(field.values ?? []).map((v) => xml('value', {}, v)),
  );
}

/**
 * The values of a submitted form (`<x type='submit'>`), or a message saying why it is not one. A `cancel` form
 * reads as `'cancel'`.
 */
export function readSubmission(x: Element | undefined): Submitted | 'cancel' | string {
  if (!x) return 'no data form was submitted';
  if (x.attrs.type === 'cancel') return 'cancel';
  if (x.attrs.type !== 'submit') return `a submitted form must have type 'submit', not '${String(x.attrs.type ?? '').slice(0, 20)}'`;
  const fields = x.getChildren('field');
  if (fields.length > MAX_SUBMITTED_FIELDS) return `too many fields (at most ${MAX_SUBMITTED_FIELDS})`;
  const values = new Map<string, string[]>();
  for (const field of fields) {
    const name = field.attrs.var;
    if (typeof name !== 'string' || name === '') return 'a submitted field has no var';
    const these = field.getChildren('value').map((v) => v.text());
    if (these.length > MAX_VALUES_PER_FIELD) return `field ${name.slice(0, 40)}: too many values (at most ${MAX_VALUES_PER_FIELD})`;
    if (these.some((v) => v.length > MAX_VALUE_LENGTH)) return `field ${name.slice(0, 40)}: a value is longer than ${MAX_VALUE_LENGTH} characters`;
    values.set(name, these);
  }
  return values;
}

/** The form again with what was submitted filled in (so a correction does not start from scratch). */
export function refill(form: Form, submitted: Submitted): Form {
  return {
    ...form,
    fields: form.fields.map((f) => (f.type === 'fixed' || !submitted.has(f.var) ? f : { ...f, values: submitted.get(f.var)! })),
  };
}
