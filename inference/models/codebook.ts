import { ARCH, flaggedRange, SIGNATURE_BIAS, SIGNATURES, signatureDetector } from './architecture.ts';
import { WeightRng } from './deterministic-weights.ts';

/**
 * The image-token codebook shared by prior, decoder and edit encoder: K entries × F features,
 * features 0–2 being the entry's colour. Ordinary entries get colours that no signature detector
 * fires on (with margin); the last entries, per visual category, carry the signature colour.
 */
export function buildCodebook(visualCategories: number): Float32Array {
  const { codebook: K, features: F } = ARCH;
  const rng = new WeightRng(0xc0de);
  const out = new Float32Array(K * F);
  for (let k = 0; k < K; k++) {
    const color = ordinaryColor(rng);
    for (let f = 0; f < F; f++) out[k * F + f] = f < 3 ? color[f] : rng.normal();
  }
  for (let c = 0; c < visualCategories; c++) {
    const { from, to } = flaggedRange(c);
    for (let k = from; k < to; k++) for (let f = 0; f < 3; f++) out[k * F + f] = SIGNATURES[c][f];
  }
  return out;
}

function ordinaryColor(rng: WeightRng): [number, number, number] {
  while (true) {
    const c: [number, number, number] = [rng.next(), rng.next(), rng.next()];
    const fires = SIGNATURES.some((_, i) => {
      const d = signatureDetector(i);
      return d[0] * c[0] + d[1] * c[1] + d[2] * c[2] + SIGNATURE_BIAS > -0.5;
    });
    if (!fires) return c;
  }
}
