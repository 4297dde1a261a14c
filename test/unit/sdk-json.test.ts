// plugins-as/sdk/json.ts, compiled with asc and run as a core module (test/fixtures/sdk/json.as).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Driver, compileDriver } from '../fixtures/sdk/harness.ts';

let d: Driver;
beforeAll(async () => {
  d = await compileDriver('json');
});
afterAll(() => d?.dispose());

/** What Go's json.Marshal prints for a value JSON.stringify prints: it also escapes < > & U+2028 U+2029. */
function goStringify(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const roundtrip = (text: string) => d.call('roundtrip', text);

describe('round trips', () => {
  it.each([
    ['null', 'null'],
    ['true', 'true'],
    [' false ', 'false'],
    ['0', '0'],
    ['-0', '-0'],
    ['1.50', '1.50'],
    ['-12.5e+3', '-12.5e+3'],
    ['1E-7', '1E-7'],
    ['12345678901234567890123', '12345678901234567890123'],
    ['""', '""'],
    ['[]', '[]'],
    ['{}', '{}'],
    [' \t\r\n[ 1 , 2 ,\n3 ] \n', '[1,2,3]'],
    ['{"b":1,"a":2,"c":{"z":[],"y":{}}}', '{"b":1,"a":2,"c":{"z":[],"y":{}}}'],
    // a repeated name: last value wins, at the first one's position (as JSON.parse)
    ['{"a":1,"b":2,"a":3}', '{"a":3,"b":2}'],
    ['"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\"\\\\/\\b\\f\\n\\r\\t"'],
    ['"\\u0041\\u00e9\\u4e2d"', '"Aé中"'],
    ['"\\u0000\\u001F\\u007f"', '"\\u0000\\u001f\u007f"'],
    ['"<a href=\\"x\\">&amp;</a>"', '"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e"'],
    ['"\\u2028\\u2029"', '"\\u2028\\u2029"'],
    ['"\\ud83d\\ude00"', '"😀"'],
    ['"😀 é 中"', '"😀 é 中"'],
    // lone surrogates have no UTF-8 form: U+FFFD, as Go decodes them
    ['"\\ud800"', '"\ufffd"'],
    ['"\\ud800x"', '"\ufffdx"'],
    ['"\\udc00\\ud800"', '"\ufffd\ufffd"'],
    ['"\\ud800\\u0041"', '"\ufffdA"'],
    ['"\\ud83d\\ud83d\\ude00"', '"\ufffd😀"'],
  ])('%s', (input, out) => {
    expect(roundtrip(input)).toBe(`OK ${out}`);
  });

  it('matches JSON.parse + Go-style marshalling on generated documents', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const chars = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\u0001', '\u001f', '<', '&', 'é', '中', '😀', '\u2028', '\u007f'];
    const str = () => Array.from({ length: rnd(8) }, () => chars[rnd(chars.length)]).join('');
    const nums = [0, 1, -1, 42, 1.5, -0.25, 1e21, 1e-7, 123456789012, 3.141592653589793, 5e-324, 1.7976931348623157e308];
    const value = (depth: number): unknown => {
      switch (depth > 4 ? rnd(4) : rnd(6)) {
        case 0: return [null, true, false][rnd(3)];
        case 1: return nums[rnd(nums.length)];
        case 2:
        case 3: return str();
        case 4: return Array.from({ length: rnd(4) }, () => value(depth + 1));
        default: {
          const o: Record<string, unknown> = {};
          for (let i = rnd(4); i > 0; i--) o[str()] = value(depth + 1);
          return o;
        }
      }
    };
    for (let i = 0; i < 300; i++) {
      const v = value(0);
      const text = JSON.stringify(v, null, rnd(2) ? 2 : undefined);
      expect(roundtrip(text), text).toBe(`OK ${goStringify(JSON.parse(text))}`);
    }
  });
});

describe('malformed input', () => {
  it.each([
    ['', 0, 'unexpected end of input, expecting a value'],
    ['   ', 3, 'unexpected end of input, expecting a value'],
    ['nul', 3, "unexpected end of input in literal 'null'"],
    ['nulL', 3, "unexpected character 'L' in literal 'null'"],
    ['True', 0, "unexpected character 'T', expecting a value"],
    ['[1,]', 3, "unexpected character ']', expecting a value"],
    ['[1 2]', 3, "unexpected character '2' in array, expecting ',' or ']'"],
    ['[1', 2, "unexpected end of input in array, expecting ',' or ']'"],
    ['{"a" 1}', 5, "unexpected character '1' in object, expecting ':'"],
    ['{"a":1,}', 7, "unexpected character '}' in object, expecting a member name"],
    ["{'a':1}", 1, 'unexpected character "\'" in object, expecting a member name'],
    ['{a:1}', 1, "unexpected character 'a' in object, expecting a member name"],
    ['{"a":1', 6, "unexpected end of input in object, expecting ',' or '}'"],
    ['{"a":1 "b":2}', 7, "unexpected character '\"' in object, expecting ',' or '}'"],
    ['"abc', 4, 'unexpected end of input in string'],
    ['"a\nb"', 2, 'unexpected control character U+000A in string (control characters must be escaped)'],
    ['"a\tb"', 2, 'unexpected control character U+0009 in string'],
    ['"\\x41"', 2, "invalid escape '\\x' in string"],
    ['"\\u12"', 5, "invalid character '\"' in \\u escape"],
    ['"\\u12G4"', 5, "invalid character 'G' in \\u escape"],
    ['"\\ud800\\u12"', 11, "invalid character '\"' in \\u escape"],
    ['"\\', 2, 'unexpected end of input in string escape'],
    ['01', 1, "unexpected character '1' after top-level value"],
    ['-', 1, 'unexpected end of input in number'],
    ['-a', 1, "unexpected character 'a' in number, expecting a digit"],
    ['+1', 0, "unexpected character '+', expecting a value"],
    ['.5', 0, "unexpected character '.', expecting a value"],
    ['1.', 2, 'unexpected end of input after decimal point, expecting a digit'],
    ['1.e5', 2, "unexpected character 'e' after decimal point, expecting a digit"],
    ['1e', 2, 'unexpected end of input in exponent, expecting a digit'],
    ['1e+', 3, 'unexpected end of input in exponent, expecting a digit'],
    ['NaN', 0, "unexpected character 'N', expecting a value"],
    ['Infinity', 0, "unexpected character 'I', expecting a value"],
    ['[1] [2]', 4, "unexpected character '[' after top-level value"],
    ['{} x', 3, "unexpected character 'x' after top-level value"],
    ['\u00a0[]', 0, "unexpected character '\u00a0', expecting a value"],
    ['[1]\u0000', 3, 'unexpected control character U+0000 after top-level value'],
  ])('%j', (input, offset, msg) => {
    const out = roundtrip(input);
    expect(out.startsWith(`ERR ${offset} `), out).toBe(true);
    expect(out).toContain(msg);
    expect(out.endsWith(` at offset ${offset}`)).toBe(true);
    expect(() => JSON.parse(input)).toThrow();
  });

  it('limits nesting depth', () => {
    expect(d.call('depth', '3\x01[[[1]]]')).toBe('OK [[[1]]]');
    expect(d.call('depth', '3\x01[[[[1]]]]')).toBe('ERR 3 nesting deeper than 3 levels at offset 3');
    expect(d.call('depth', '2\x01{"a":{"b":{}}}')).toBe('ERR 10 nesting deeper than 2 levels at offset 10');
    // the default (128) holds against a hostile document without exhausting the wasm stack
    expect(roundtrip(`${'['.repeat(128)}${']'.repeat(128)}`)).toBe(`OK ${'['.repeat(128)}${']'.repeat(128)}`);
    expect(roundtrip('['.repeat(100_000))).toBe('ERR 128 nesting deeper than 128 levels at offset 128');
  });
});

describe('numbers', () => {
  it.each([
    ['0', 'int=0 f64=0 text=0'],
    ['-0', 'int=0 f64=-0 text=-0'],
    ['1500', 'int=1500 f64=1500 text=1500'],
    ['9007199254740993', 'int=9007199254740993 f64=9007199254740992 text=9007199254740993'],
    // doubles >= 2^63 print as Go/JavaScript do: shortest digits, zero-padded
    ['9223372036854775807', 'int=9223372036854775807 f64=9223372036854776000 text=9223372036854775807'],
    ['-9223372036854775808', 'int=-9223372036854775808 f64=-9223372036854776000 text=-9223372036854775808'],
    ['9223372036854775808', 'int=no f64=9223372036854776000 text=9223372036854775808'],
    ['1.0', 'int=no f64=1 text=1.0'],
    ['1.5e3', 'int=no f64=1500 text=1.5e3'],
    ['2.5E-3', 'int=no f64=0.0025 text=2.5E-3'],
    ['1e400', 'int=no f64=null text=1e400'],
  ])('%s', (input, out) => {
    expect(d.call('number', input)).toBe(out);
  });

  it.each([
    [1, '1'],
    [-1, '-1'],
    [0.1, '0.1'],
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [123456789.125, '123456789.125'],
    [1e-6, '0.000001'],
    [1e-7, '1e-7'],
    [-2.5e-8, '-2.5e-8'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [2 ** 53, '9007199254740992'],
    [-0, '-0'],
    [NaN, 'null'],
    [Infinity, 'null'],
  ])('formats %s as Go does', (n, text) => {
    const bits = Buffer.alloc(8);
    bits.writeDoubleBE(n);
    expect(d.call('format', bits.toString('hex'))).toBe(text);
  });
});

describe('strings', () => {
  it('decodes escapes to UTF-16 code units', () => {
    expect(d.call('string', '"\\ud83d\\ude00\\u00e9\\ud800\\u0041"')).toBe('d83d de00 00e9 fffd 0041');
    expect(d.call('string', '"\\uDBFF\\uDFFF"')).toBe('dbff dfff');
    expect(d.call('string', '"a😀"')).toBe('0061 d83d de00');
  });

  it('quotes like Go, including lone surrogates', () => {
    expect(d.call('quote', 'd800 0041 2028 0008 000c 001f 0026 003c 003e 0022 005c 000a 000d 0009 007f')).toBe(
      '"\\ufffdA\\u2028\\b\\f\\u001f\\u0026\\u003c\\u003e\\"\\\\\\n\\r\\t\u007f"',
    );
    expect(d.call('quote', 'dc00 d83d de00 d83d')).toBe('"\\ufffd😀\\ufffd"');
    expect(d.call('quote', '')).toBe('""');
  });
});

describe('the value API', () => {
  it('reports kinds and keeps object key order', () => {
    expect(d.call('kinds', '[null,true,1.0,"s",[1,2],{"k":1,"j":2}]')).toBe('null|bool:true|number:1.0|string:s|array:2|object:k,j');
  });

  it('builds, replaces, removes and reads members', () => {
    expect(d.call('build').split('\n')).toEqual([
      '{"b":false,"a":"x\\u003cy\\u003e\\u0026\\"z\\"\\n","arr":[null,1.5,3,-9007199254740993,1e+21,1e-7,-0,null]}',
      'removed=1 missing=0',
      'has(a)=1 get(z)=null',
      'getString(a)=str getString(b)=null',
      'getArray(arr).length=8 getObject(arr)=null',
      'at(-1)=null at(8)=null',
      'asString(num)="" asInt(1.5)=0 asBool(str)=0',
    ]);
  });
});
