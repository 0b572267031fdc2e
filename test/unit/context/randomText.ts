// Seeded random text for property tests: code, prose, whitespace runs, non-Latin scripts, emoji.

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
