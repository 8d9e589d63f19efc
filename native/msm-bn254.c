/*
 * Multi-scalar multiplication on BN254 G1 and G2 (sum of k_i * P_i), as a Node-API addon for
 * the Groth16 prover (src/prover/groth16-engine.ts): the A, B1, B2, C and H
 * multiexponentiations of a proof, in the layouts snarkjs's zkey and ffjavascript use, so
 * that no point or scalar is converted on the way in or out.
 *
 * - Bases: affine points, x then y, each coordinate little-endian in Montgomery form over q
 *   (32 bytes in G1; in G2 an element c0 + c1 u of Fq2 = Fq[u]/(u^2 + 1), c0 first, 64 bytes):
 *   a zkey's point sections. (0, 0) is the point at infinity.
 * - Scalars: 32 bytes little-endian, plain form (a witness, or H's evaluations).
 * - Result: a Jacobian point (X, Y, Z) in the same coordinate form, Z = 0 for infinity:
 *   ffjavascript's form, so its G1/G2 add and toAffine take it as it is.
 *
 * The bases are not checked to be on the curve: they come from a proving key whose sha256
 * the artifact loader has checked against the manifest.
 *
 * Algorithm: Pippenger's bucket method with unsigned c-bit windows (msm-group.inc, written
 * once for both groups). Field arithmetic is Montgomery over four 64-bit limbs (mont256.h);
 * Fq2 multiplies by Karatsuba. Both groups are a = 0 curves, so the Jacobian formulas are
 * the same (dbl-2009-l, madd-2007-bl, add-2007-bl). msmAsync runs one job on libuv's thread
 * pool; the caller splits the points between jobs and adds the partial results.
 *
 * scaleAsync multiplies many points by one scalar (a phase-2 contribution to a proving key,
 * src/keys/phase2.ts): fixed 4-bit windows per point and one batched inversion to return
 * affine points in the same layout.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mont256.h"


/* q = 21888242871839275222246405745257275088696311157297823662689037894645226208583 */
static const u64 Q[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL};
/* -q^-1 mod 2^64 */
static const u64 QINV = 0x87d20782e4866389ULL;
/* R mod q (1 in Montgomery form), R = 2^256 */
#define ONE_LIMBS {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}

typedef struct { u64 v[4]; } fq;

static inline int fq_is_zero(const fq *a) { return (a->v[0] | a->v[1] | a->v[2] | a->v[3]) == 0; }
static inline int fq_eq(const fq *a, const fq *b) {
  return ((a->v[0] ^ b->v[0]) | (a->v[1] ^ b->v[1]) | (a->v[2] ^ b->v[2]) | (a->v[3] ^ b->v[3])) == 0;
}

/* Over q: the shared Montgomery arithmetic of mont256.h with this file's modulus. */
static inline void fq_add(fq *r, const fq *a, const fq *b) { mont_add(r->v, a->v, b->v, Q); }
static inline void fq_sub(fq *r, const fq *a, const fq *b) { mont_sub(r->v, a->v, b->v, Q); }
static inline void fq_dbl(fq *r, const fq *a) { mont_add(r->v, a->v, a->v, Q); }
static inline void fq_mul(fq *r, const fq *a, const fq *b) { mont_mul(r->v, a->v, b->v, Q, QINV); }
static inline void fq_sqr(fq *r, const fq *a) { fq_mul(r, a, a); }
static const fq FQ_ONE = {ONE_LIMBS};
/* q - 2: Fermat's little theorem gives a^-1 = a^(q-2). */
static const u64 Q_MINUS_2[4] = {0x3c208c16d87cfd45ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL};
/* r = a^-1 (0 for a = 0), by square-and-multiply over the bits of q - 2. */
static void fq_inv(fq *r, const fq *a) {
  fq acc = FQ_ONE, base = *a;
  for (int bit = 0; bit < 254; bit++) {
    if ((Q_MINUS_2[bit >> 6] >> (bit & 63)) & 1) fq_mul(&acc, &acc, &base);
    fq_sqr(&base, &base);
  }
  *r = acc;
}

/* Fq2 = Fq[u] / (u^2 + 1), c0 + c1 u, c0 first (ffjavascript's layout). */
typedef struct { fq c0, c1; } fq2;
static const fq2 FQ2_ONE = {{ONE_LIMBS}, {{0, 0, 0, 0}}};
static inline int fq2_is_zero(const fq2 *a) { return fq_is_zero(&a->c0) && fq_is_zero(&a->c1); }
static inline int fq2_eq(const fq2 *a, const fq2 *b) { return fq_eq(&a->c0, &b->c0) && fq_eq(&a->c1, &b->c1); }
static inline void fq2_add(fq2 *r, const fq2 *a, const fq2 *b) {
  fq_add(&r->c0, &a->c0, &b->c0);
  fq_add(&r->c1, &a->c1, &b->c1);
}
static inline void fq2_sub(fq2 *r, const fq2 *a, const fq2 *b) {
  fq_sub(&r->c0, &a->c0, &b->c0);
  fq_sub(&r->c1, &a->c1, &b->c1);
}
static inline void fq2_dbl(fq2 *r, const fq2 *a) { fq2_add(r, a, a); }
/* Karatsuba: three multiplications in Fq. r may alias a or b. */
static inline void fq2_mul(fq2 *r, const fq2 *a, const fq2 *b) {
  fq t0, t1, sa, sb;
  fq_mul(&t0, &a->c0, &b->c0);
  fq_mul(&t1, &a->c1, &b->c1);
  fq_add(&sa, &a->c0, &a->c1);
  fq_add(&sb, &b->c0, &b->c1);
  fq_mul(&sa, &sa, &sb);
  fq_sub(&sa, &sa, &t0);
  fq_sub(&r->c1, &sa, &t1);
  fq_sub(&r->c0, &t0, &t1);
}
/* (c0 + c1 u)^-1 = (c0 - c1 u) / (c0^2 + c1^2), since u^2 = -1. */
static void fq2_inv(fq2 *r, const fq2 *a) {
  fq n, t;
  fq_mul(&n, &a->c0, &a->c0);
  fq_mul(&t, &a->c1, &a->c1);
  fq_add(&n, &n, &t);
  fq_inv(&n, &n);
  fq_mul(&r->c0, &a->c0, &n);
  fq_mul(&t, &a->c1, &n);
  fq zero = {{0, 0, 0, 0}};
  fq_sub(&r->c1, &zero, &t);
}
/* (c0 + c1 u)^2 = (c0 + c1)(c0 - c1) + 2 c0 c1 u. */
static inline void fq2_sqr(fq2 *r, const fq2 *a) {
  fq s, d, m;
  fq_add(&s, &a->c0, &a->c1);
  fq_sub(&d, &a->c0, &a->c1);
  fq_mul(&m, &a->c0, &a->c1);
  fq_mul(&r->c0, &s, &d);
  fq_dbl(&r->c1, &m);
}

static inline u64 load_le64(const uint8_t *p) {
  u64 v;
  memcpy(&v, p, 8); /* little-endian hosts only (x86-64, arm64) */
  return v;
}

/* Bits [bit, bit + c) of a 256-bit little-endian scalar (c <= 16). */
static inline unsigned window_of(const uint8_t *scalar, unsigned bit, unsigned c) {
  const unsigned limb = bit >> 6, off = bit & 63;
  u64 w = load_le64(scalar + 8 * limb) >> off;
  if (off + c > 64 && limb < 3) w |= load_le64(scalar + 8 * (limb + 1)) << (64 - off);
  return (unsigned)(w & ((1u << c) - 1));
}

static unsigned window_bits(size_t n) {
  if (n < 32) return 3;
  unsigned c = 0;
  while (((size_t)1 << (c + 1)) <= n) c++; /* floor(log2 n) */
  c = c > 3 ? c - 2 : 2;
  return c > 16 ? 16 : c;
}

/* G1: coordinates in Fq. */
#define F fq
#define FOP(op) fq_##op
#define F_ONE FQ_ONE
#define GP(name) g1_##name
#include "msm-group.inc"
#undef F
#undef FOP
#undef F_ONE
#undef GP

/* G2: coordinates in Fq2. */
#define F fq2
#define FOP(op) fq2_##op
#define F_ONE FQ2_ONE
#define GP(name) g2_##name
#include "msm-group.inc"
#undef F
#undef FOP
#undef F_ONE
#undef GP

#define get_bytes napi_uint8_bytes

typedef struct {
  int group; /* 1 or 2 */
  int scale; /* 0: msm (one scalar per base, one Jacobian sum); 1: scale (one scalar for all, affine points) */
  uint8_t *bases, *scalars, *out;
  size_t n;
  int ok;
  napi_ref refs[3];
  napi_deferred deferred;
  napi_async_work work;
} job_t;

/* msm (group, bases, scalars, out): G1 n*64, n*32 and 96 bytes; G2 n*128, n*32 and 192 bytes.
 * scale (group, bases, scalar, out): bases and out n*64 (G1) or n*128 (G2) bytes, scalar 32 bytes. */
static int parse_job(napi_env env, napi_callback_info info, job_t *job, napi_value argv[4]) {
  size_t argc = 4, lb, ls, lo;
  int32_t group;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc != 4 || napi_get_value_int32(env, argv[0], &group) != napi_ok || !get_bytes(env, argv[1], &job->bases, &lb) ||
      !get_bytes(env, argv[2], &job->scalars, &ls) || !get_bytes(env, argv[3], &job->out, &lo)) {
    napi_throw_type_error(env, NULL, "expects (group: 1 | 2, bases: Uint8Array, scalars: Uint8Array, out: Uint8Array)");
    return 0;
  }
  if (group != 1 && group != 2) {
    napi_throw_range_error(env, NULL, "group must be 1 (G1) or 2 (G2)");
    return 0;
  }
  const size_t point = group == 1 ? sizeof(g1_affine) : sizeof(g2_affine), jac = group == 1 ? sizeof(g1_jac) : sizeof(g2_jac);
  if (job->scale) {
    if (lb % point != 0 || ls != 32 || lo != lb) {
      napi_throw_range_error(env, NULL, "scale: bases must be whole points, the scalar 32 bytes and out as long as bases");
      return 0;
    }
    job->group = group;
    job->n = lb / point;
    return 1;
  }
  if (lb % point != 0 || ls != lb / point * 32 || lo != jac) {
    napi_throw_range_error(env, NULL, group == 1 ? "G1: bases must be n * 64 bytes, scalars n * 32 bytes and out 96 bytes"
                                                 : "G2: bases must be n * 128 bytes, scalars n * 32 bytes and out 192 bytes");
    return 0;
  }
  job->group = group;
  job->n = lb / point;
  return 1;
}

static int run(const job_t *job) {
  if (job->scale) return job->group == 1 ? g1_scale(job->bases, job->scalars, job->n, job->out) : g2_scale(job->bases, job->scalars, job->n, job->out);
  return job->group == 1 ? g1_msm(job->bases, job->scalars, job->n, job->out) : g2_msm(job->bases, job->scalars, job->n, job->out);
}

static napi_value msm_sync(napi_env env, napi_callback_info info) {
  job_t job;
  job.scale = 0;
  napi_value argv[4];
  if (!parse_job(env, info, &job, argv)) return NULL;
  if (!run(&job)) napi_throw_error(env, NULL, "msm-bn254: out of memory");
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = (job_t *)data;
  job->ok = run(job);
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *job = (job_t *)data;
  napi_value result;
  if (status != napi_ok || !job->ok) {
    napi_value msg;
    napi_create_string_utf8(env, status != napi_ok ? "msm-bn254: job cancelled" : "msm-bn254: out of memory", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  }
  for (int i = 0; i < 3; i++) napi_delete_reference(env, job->refs[i]);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* msmAsync(group, bases, scalars, out) -> Promise<void>, on the libuv thread pool. The arrays must
 * not change until the promise settles. */
static napi_value queue_job(napi_env env, napi_callback_info info, int scale) {
  job_t *job = (job_t *)calloc(1, sizeof(job_t));
  if (!job) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  job->scale = scale;
  napi_value argv[4], promise, name;
  if (!parse_job(env, info, job, argv)) {
    free(job);
    return NULL;
  }
  for (int i = 0; i < 3; i++) {
    if (napi_create_reference(env, argv[i + 1], 1, &job->refs[i]) != napi_ok) {
      napi_throw_error(env, NULL, "msm-bn254: could not queue the job");
      return NULL;
    }
  }
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "msm-bn254", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok || napi_queue_async_work(env, job->work) != napi_ok) {
    napi_throw_error(env, NULL, "msm-bn254: could not queue the job");
    return NULL;
  }
  return promise;
}

static napi_value msm_async(napi_env env, napi_callback_info info) { return queue_job(env, info, 0); }

/* scaleAsync(group, bases, scalar, out) -> Promise<void>: out[i] = scalar * bases[i], affine,
 * on the libuv thread pool. The arrays must not change until the promise settles. */
static napi_value scale_async(napi_env env, napi_callback_info info) { return queue_job(env, info, 1); }

static napi_value init(napi_env env, napi_value exports) {
  mont_init();
  napi_property_descriptor props[] = {
    {"useAsm", NULL, mont_napi_use_asm, NULL, NULL, NULL, napi_default, NULL},
    {"msm", NULL, msm_sync, NULL, NULL, NULL, napi_default, NULL},
    {"msmAsync", NULL, msm_async, NULL, NULL, NULL, napi_default, NULL},
    {"scaleAsync", NULL, scale_async, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
