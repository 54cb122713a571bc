/** Help texts shared by `pnpm secure-eval` and `pnpm party` (one wording, docs/protocols.md). */

export const MSB_HELP =
  "MSB protocol of sign/relu: secure (default; boolean-circuit adder, nothing leaks) or cbnn " +
  "(paper Alg. 3 with a bounded mask, opt-in): LEAKS |u| = |2x+1|*r with r in [1, 3*2^(28-b)-2] " +
  "for |x| < 2^b (the layer's proven bound; b = 28 gives r = 1, i.e. |x| exactly) to the " +
  "party that opens u (see --cbnn-open): x in {0, -1} is visible, and ratios of |x| across " +
  "neurons; the sign of x stays hidden. Needs an export whose pre-sign outBoundBits are <= 28 " +
  "(pnpm export --presign-bits).";

export const CBNN_OPEN_HELP =
  "with --msb cbnn: who opens the masked value u. helper (default): P2 only, 2 rounds, " +
  "66 bits per value; only the helper (no input of its own) learns |u|. all: the paper's " +
  "open-to-all, 1 round, 192 bits per value; EVERY party learns |u|, so the data owner " +
  "learns hidden |x| up to the factor r (which depends on the weights) and the model owner " +
  "learns it too (which depends on the input). Fewer rounds pay off on WAN.";

export const TRUNCATION_HELP =
  "truncation after fixed-point products (ReLU nets; Sign nets have none): fast (default; " +
  "1 round, may be 1 LSB below the reference per truncation, so argmax can differ on near " +
  "ties) or exact (adds the dropped carry with the secure adder and daBits made offline: " +
  "logits equal the plaintext evaluateFixed bit for bit; 2 + ceil(log2 d) more rounds per " +
  "truncation of d bits).";
