import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { DATA_NS, formElement, MAX_VALUE_LENGTH, readSubmission, refill, type Form } from '../../src/adhoc/data-form.js';

const form: Form = {
  type: 'form',
  title: 'Acknowledge incidents',
  instructions: 'pick some',
  fields: [
    { var: 'incident', type: 'list-multi', label: 'Incidents', required: true, options: [{ value: '1', label: '#1 spam' }, { value: '2' }] },
    { var: 'note', type: 'text-single', label: 'Note', desc: 'optional' },
  ],
};

function submit(...fields: Array<[string, string[]]>) {
  return xml('x', { xmlns: DATA_NS, type: 'submit' }, ...fields.map(([v, values]) => xml('field', { var: v }, ...values.map((x) => xml('value', {}, x)))));
}

describe('data form writer', () => {
  it('writes title, instructions, fields with options, required and desc', () => {
    const x = formElement(form);
    expect(x.attrs).toMatchObject({ xmlns: DATA_NS, type: 'form' });
    expect(x.getChildText('title')).toBe('Acknowledge incidents');
    expect(x.getChildText('instructions')).toBe('pick some');
    const [incident, note] = x.getChildren('field');
    expect(incident!.attrs).toMatchObject({ var: 'incident', type: 'list-multi', label: 'Incidents' });
    expect(incident!.getChild('required')).toBeDefined();
    expect(incident!.getChildren('option').map((o) => [o.attrs.label, o.getChildText('value')])).toEqual([
      ['#1 spam', '1'],
      [undefined, '2'],
    ]);
    expect(note!.getChild('required')).toBeUndefined();
    expect(note!.getChildText('desc')).toBe('optional');
  });

  it('refill puts submitted values back into the form', () => {
    const again = formElement(refill(form, new Map([['note', ['on it']]])));
    expect(again.getChildren('field')[1]!.getChildText('value')).toBe('on it');
    expect(again.getChildren('field')[0]!.getChildren('value')).toHaveLength(0);
  });
});

describe('data form reader', () => {
  it('reads every value of every field, in order', () => {
    const values = readSubmission(submit(['incident', ['1', '2']], ['note', ['on it']]));
    expect(values).toEqual(new Map([['incident', ['1', '2']], ['note', ['on it']]]));
  });

  it('says when there is no form, a wrong type, a field without var, or a value too long', () => {
    expect(readSubmission(undefined)).toBe('no data form was submitted');
    expect(readSubmission(xml('x', { xmlns: DATA_NS, type: 'form' }))).toMatch(/type 'submit'/);
    expect(readSubmission(xml('x', { xmlns: DATA_NS, type: 'submit' }, xml('field', {}, xml('value', {}, 'x'))))).toMatch(/no var/);
    expect(readSubmission(submit(['note', ['x'.repeat(MAX_VALUE_LENGTH + 1)]]))).toMatch(/longer than/);
  });

  it('reads a cancel form as cancel', () => {
    expect(readSubmission(xml('x', { xmlns: DATA_NS, type: 'cancel' }))).toBe('cancel');
  });
});
