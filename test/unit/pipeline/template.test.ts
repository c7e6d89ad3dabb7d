import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../../../src/engine/template.js';
import { ConditionError } from '../../../src/engine/parse.js';

describe('compileTemplate', () => {
  const event = {
    type: 'transfer.failed',
    payload: { amount: 12000, nested: { ok: true }, list: [1, 'two'], 'odd-key': 'x', nothing: null },
  };

  it('fills placeholders from own properties, in dot and bracket form', () => {
    const template = compileTemplate(
      '{{event.type}}: {{ event.payload.amount }} {{event.payload["odd-key"]}} {{event.payload.list[1]}}',
    );
    expect(template.render(event)).toBe('transfer.failed: 12000 x two');
  });

  it('renders missing values as nothing, null as "null", objects and arrays as JSON', () => {
    expect(
      compileTemplate(
        '[{{event.payload.missing}}][{{event.payload.nothing}}][{{event.payload.nested}}][{{event.payload.list}}]',
      ).render(event),
    ).toBe('[][null][{"ok":true}][[1,"two"]]');
  });

  it('never reads inherited properties', () => {
    expect(compileTemplate('{{event.payload.toString}}|{{event.payload.hasOwnProperty}}').render(event)).toBe(
      '|',
    );
  });

  it.each([
    ['{{event.payload.amount', 1],
    ['Amount {{event.payload.amount', 8],
    ['{{event.type}} and {{event.payload', 20],
  ])('refuses the placeholder left open in %s, at the column of its "{{"', (source, column) => {
    expect(() => compileTemplate(source)).toThrow(
      new ConditionError('syntax', 'placeholder "{{" is not closed with "}}"', column),
    );
  });

  it('leaves text without placeholders as it is', () => {
    expect(compileTemplate('Plain { text } }}').render(event)).toBe('Plain { text } }}');
  });

  it.each([
    ['{{event.__proto__}}', 'not_allowed'],
    ['{{event.a + 1}}', 'not_allowed'],
    ['{{process.env}}', 'not_allowed'],
    ['Amount {{event.payload.amount > 5}}', 'not_allowed'],
    ['{{event.}}', 'syntax'],
  ])('refuses %s with the column of the placeholder', (source, code) => {
    let error: unknown;
    try {
      compileTemplate(source);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConditionError);
    expect((error as ConditionError).code).toBe(code);
    expect((error as ConditionError).column).toBe(source.indexOf('{{') + 3);
    // The message quotes the placeholder, so a long template's author finds it.
    const placeholder = source.slice(source.indexOf('{{'));
    expect((error as ConditionError).description).toContain(`placeholder ${placeholder}`);
  });
});
