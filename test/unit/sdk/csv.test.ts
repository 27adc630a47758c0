/**
 * steward/data's CSV reader: real data (vega-datasets' seattle-weather.csv) into typed Arrow
 * columns, RFC 4180 quoting through csv-parse, and files that cannot be read refused with the file
 * and the line.
 */
import { describe, expect, it } from 'vitest';
import { vegaDataset } from '../../../src/datasets/vega.js';
import { csvToTable, parseCsv, readCsv } from '../../../src/sdk/csv.js';

const weatherFile = vegaDataset('seattle-weather.csv');

describe('readCsv', () => {
  it("reads Seattle's daily weather into typed columns", async () => {
    const table = await readCsv(weatherFile);
    expect(table.numRows).toBe(1461);
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'date:Timestamp<MILLISECOND>',
      'precipitation:Float64',
      'temp_max:Float64',
      'temp_min:Float64',
      'wind:Float64',
      'weather:Utf8',
    ]);
    expect(table.getChild('date')!.get(0)).toBe(Date.UTC(2012, 0, 1));
    expect(table.getChild('precipitation')!.get(1)).toBe(10.9);
    expect(table.getChild('weather')!.get(1)).toBe('rain');
  });
});

describe('parseCsv', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, CRLF and a BOM', () => {
    const text = '\ufeffid,note,score\r\n1,"a, b",2.5\r\n2,"say ""hi""\nthen go",\r\n3,"",7\r\n';
    expect(parseCsv(text)).toEqual({
      header: ['id', 'note', 'score'],
      rows: [
        ['1', 'a, b', '2.5'],
        ['2', 'say "hi"\nthen go', null],
        ['3', '', '7'],
      ],
    });
  });

  it('turns an empty unquoted field into null and keeps the column typed', () => {
    const table = csvToTable('x,y\n1,a\n,b\n3,\n');
    expect(String(table.getChild('x')!.type)).toBe('Float64');
    expect(table.getChild('x')!.toArray()[0]).toBe(1);
    expect(table.getChild('x')!.get(1)).toBeNull();
    expect(table.getChild('y')!.get(2)).toBeNull();
  });

  const refused: Array<[string, string, RegExp]> = [
    ['an empty file', '', /weather\.csv is empty: a CSV file needs a header row/],
    ['a quote never closed', 'a,b\n1,"open\n', /weather\.csv.*line \d+/],
    ['a row with too many fields', 'a,b\n1,2\n3,4,5\n', /weather\.csv: data row 2 has 3 fields, the header 2/],
    ['a header naming a column twice', 'a,a\n1,2\n', /weather\.csv: the header names column "a" twice/],
    ['a header with an empty name', 'a,\n1,2\n', /weather\.csv: column 2 of the header has no name/],
  ];
  it.each(refused)('refuses %s, naming the file', (_what, text, message) => {
    expect(() => parseCsv(text, { source: 'weather.csv' })).toThrow(message);
  });

  it('refuses a delimiter that cannot be one', () => {
    expect(() => parseCsv('a;b', { delimiter: '"' })).toThrow(/delimiter must be one character other than a quote/);
  });
});
