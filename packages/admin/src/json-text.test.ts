import { describe, expect, it } from 'vitest';
import { MAX_JSON_TEXT_CHARS, parseJsonText } from './json-text.js';

describe('parseJsonText', () => {
  it('gives the value of valid JSON, objects and scalars alike', () => {
    expect(parseJsonText('{"hello":"console"}')).toEqual({ ok: true, value: { hello: 'console' } });
    expect(parseJsonText(' 42 ')).toEqual({ ok: true, value: 42 });
    expect(parseJsonText('null')).toEqual({ ok: true, value: null });
  });

  it('explains empty, malformed and over-long text instead of throwing', () => {
    expect(parseJsonText('   ')).toMatchObject({ ok: false, error: expect.stringMatching(/^Enter a JSON value/) });
    expect(parseJsonText('{"hello":')).toMatchObject({ ok: false, error: expect.stringMatching(/^Not valid JSON: /) });
    expect(parseJsonText("{'a':1}")).toMatchObject({ ok: false });
    const long = JSON.stringify('x'.repeat(MAX_JSON_TEXT_CHARS));
    expect(parseJsonText(long)).toEqual({ ok: false, error: `At most ${MAX_JSON_TEXT_CHARS} characters.` });
  });
});
