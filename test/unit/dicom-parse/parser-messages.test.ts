import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCodecFailure, describeParserFailure, isLibraryMessage } from '../../../src/shared/parser-messages';

const require = createRequire(import.meta.url);

describe('parser failures in DICOM terms', () => {
  it('names the damage for the messages damaged files reach', () => {
    expect(describeParserFailure('dicomParser.readSequenceItem: item tag (FFFE,E000) not found at offset 902')).toBe(
      'a sequence item does not start where one must (byte 902): the length of a sequence or of one of its items is damaged',
    );
    expect(describeParserFailure('dicomParser.findEndOfEncapsulatedElement: basic offset table not found')).toContain('Basic Offset Table');
    expect(describeParserFailure('RangeError: Maximum call stack size exceeded')).toBe('sequences are nested too deeply to read');
    expect(describeParserFailure('dicomParser.readPart10Header: DICM prefix not found at location 132 - this is not a valid DICOM P10 file.')).toContain('"DICM" marker');
    expect(describeCodecFailure('1.2.840.10008.1.2.4.80', 'charls error: invalid marker')).toBe('the JPEG-LS data is damaged and cannot be decoded');
    expect(describeCodecFailure('1.2.840.10008.1.2.5', "Cannot read properties of undefined (reading '0')")).toBe('the RLE Lossless data is damaged and cannot be decoded');
  });

  it("no message dicom-parser can throw comes through in the library's words", () => {
    const src = readFileSync(join(dirname(require.resolve('dicom-parser')), 'dicomParser.js'), 'utf8'); // the unminified build
    const thrown = [...src.matchAll(/throw\s+(?:new Error\()?(['"])(dicomParser[^'"]+)\1/g)].map((m) => m[2]!);
    expect(thrown.length).toBeGreaterThan(40);
    for (const msg of thrown) {
      const said = describeParserFailure(msg);
      expect(isLibraryMessage(said), `${msg} → ${said}`).toBe(false);
      expect(said).not.toMatch(/dicomParser|parameter|byteStream/);
    }
  });
});
