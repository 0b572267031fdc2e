// Seeded random text for property tests: code, prose, whitespace runs, non-Latin scripts, emoji.
import { mulberry32 } from '../../../src/simulator/faultPlan';

export { mulberry32 };


const FRAGMENTS = [
  'function ', 'const ', 'return ', 'value', 'Value', '_id', ' = ', '(', ')', '{', '}', ';', '\n', '\n\n', '    ', '\t',
  'the ', 'quick ', 'brown ', 'fox ', "don't ", 'éèà ', '中文字符', 'こんにちは', '😀', '👍🏽', '12345', '3.14159', '0x1F',
  '```', '`', '"', "'", '// comment ', '/* block */', '=>', '!==', '        ', '-----', '=====', 'https://example.com/a?b=c',
  'ÄÖÜß', 'Ελληνικά', 'русский ', '<div class="x">', '</div>', '#', '$', '%', '^', '&&', '||',
];

export function randomText(rnd: () => number, approxChars: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < approxChars) {
    const f = FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)];
    const piece = rnd() < 0.05 ? f.repeat(1 + Math.floor(rnd() * 20)) : f;
    parts.push(piece);
    n += piece.length;
  }
  return parts.join('');
}
