/*
 * Multi-scalar multiplication on BN254 G1 (sum of k_i * P_i), as a Node-API addon for the
 * Groth16 prover (src/prover/groth16-engine.ts): the A, B1, C and H multiexponentiations of
 * a proof, in the layouts snarkjs's zkey and ffjavascript use, so that no point or scalar is
 * converted on the way in or out.
 *
 * - Bases: affine points, x then y, each 32 bytes little-endian in Montgomery form over q
 *   (a zkey's point sections); (0, 0) is the point at infinity.
 * - Scalars: 32 bytes little-endian, plain form (a witness, or H's evaluations).
 * - Result: a Jacobian point (X, Y, Z), 96 bytes little-endian in Montgomery form, Z = 0 for
 *   infinity: ffjavascript's G1 form, so G1.add and G1.toAffine take it as it is.
 *
 * The bases are not checked to be on the curve: they come from a proving key whose sha256
 * the artifact loader has checked against the manifest.
 *
 * Algorithm: Pippenger's bucket method with unsigned c-bit windows. Field arithmetic is
 * Montgomery over four 64-bit limbs (product scanning with 128-bit products); point
 * formulas are the standard a = 0 Jacobian ones (dbl-2009-l, madd-2007-bl, add-2007-bl).
 * msmAsync runs one job on libuv's thread pool; the caller splits the points between jobs
 * and adds the partial results.
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
static const u64 ONE[4] = {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL};

typedef struct { u64 v[4]; } fq;
typedef struct { fq x, y; } g1_affine;
typedef struct { fq x, y, z; } g1_jac;

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

static inline int jac_is_inf(const g1_jac *p) { return fq_is_zero(&p->z); }
static inline void jac_set_inf(g1_jac *p) { memset(p, 0, sizeof *p); }

/* r = 2p (dbl-2009-l); r may alias p. */
static void jac_dbl(g1_jac *r, const g1_jac *p) {
  if (jac_is_inf(p)) {
    jac_set_inf(r);
    return;
  }
  fq a, b, c, d, e, f, t;
  fq_sqr(&a, &p->x);
  fq_sqr(&b, &p->y);
  fq_sqr(&c, &b);
  fq_add(&t, &p->x, &b);
  fq_sqr(&t, &t);
  fq_sub(&t, &t, &a);
  fq_sub(&t, &t, &c);
  fq_dbl(&d, &t);
  fq_dbl(&e, &a);
  fq_add(&e, &e, &a);
  fq_sqr(&f, &e);
  fq z3;
  fq_mul(&z3, &p->y, &p->z);
  fq_dbl(&z3, &z3);
  fq x3;
  fq_dbl(&t, &d);
  fq_sub(&x3, &f, &t);
  fq y3;
  fq_sub(&t, &d, &x3);
  fq_mul(&y3, &e, &t);
  fq_dbl(&c, &c);
  fq_dbl(&c, &c);
  fq_dbl(&c, &c);
  fq_sub(&y3, &y3, &c);
  r->x = x3;
  r->y = y3;
  r->z = z3;
}

/* The X and Y of an addition, shared by both addition formulas: with r = 2(S2 - S1),
 * J = H * I and V = U1 * I, X3 = r^2 - J - 2V and Y3 = r (V - X3) - 2 S1 J. */
static inline void add_xy(fq *x3, fq *y3, const fq *rr, const fq *j, const fq *v, const fq *s1) {
  fq t;
  fq_sqr(x3, rr);
  fq_sub(x3, x3, j);
  fq_sub(x3, x3, v);
  fq_sub(x3, x3, v);
  fq_sub(&t, v, x3);
  fq_mul(y3, rr, &t);
  fq_mul(&t, s1, j);
  fq_dbl(&t, &t);
  fq_sub(y3, y3, &t);
}

/* p += q, q affine and not infinity (madd-2007-bl). */
static void jac_add_affine(g1_jac *p, const g1_affine *q) {
  if (jac_is_inf(p)) {
    p->x = q->x;
    p->y = q->y;
    memcpy(&p->z, ONE, sizeof p->z);
    return;
  }
  fq z1z1, u2, s2, h, hh, i, j, rr, v;
  fq_sqr(&z1z1, &p->z);
  fq_mul(&u2, &q->x, &z1z1);
  fq_mul(&s2, &q->y, &p->z);
  fq_mul(&s2, &s2, &z1z1);
  if (fq_eq(&u2, &p->x)) {
    if (fq_eq(&s2, &p->y)) jac_dbl(p, p);
    else jac_set_inf(p);
    return;
  }
  fq_sub(&h, &u2, &p->x);
  fq_sqr(&hh, &h);
  fq_dbl(&i, &hh);
  fq_dbl(&i, &i);
  fq_mul(&j, &h, &i);
  fq_sub(&rr, &s2, &p->y);
  fq_dbl(&rr, &rr);
  fq_mul(&v, &p->x, &i);
  fq x3, y3, z3;
  add_xy(&x3, &y3, &rr, &j, &v, &p->y);
  fq_add(&z3, &p->z, &h);
  fq_sqr(&z3, &z3);
  fq_sub(&z3, &z3, &z1z1);
  fq_sub(&z3, &z3, &hh);
  p->x = x3;
  p->y = y3;
  p->z = z3;
}

/* p += q, both Jacobian (add-2007-bl). */
static void jac_add(g1_jac *p, const g1_jac *q) {
  if (jac_is_inf(q)) return;
  if (jac_is_inf(p)) {
    *p = *q;
    return;
  }
  fq z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v;
  fq_sqr(&z1z1, &p->z);
  fq_sqr(&z2z2, &q->z);
  fq_mul(&u1, &p->x, &z2z2);
  fq_mul(&u2, &q->x, &z1z1);
  fq_mul(&s1, &p->y, &q->z);
  fq_mul(&s1, &s1, &z2z2);
  fq_mul(&s2, &q->y, &p->z);
  fq_mul(&s2, &s2, &z1z1);
  if (fq_eq(&u1, &u2)) {
    if (fq_eq(&s1, &s2)) jac_dbl(p, p);
    else jac_set_inf(p);
    return;
  }
  fq_sub(&h, &u2, &u1);
  fq_dbl(&i, &h);
  fq_sqr(&i, &i);
  fq_mul(&j, &h, &i);
  fq_sub(&rr, &s2, &s1);
  fq_dbl(&rr, &rr);
  fq_mul(&v, &u1, &i);
  fq x3, y3, z3;
  add_xy(&x3, &y3, &rr, &j, &v, &s1);
  fq_add(&z3, &p->z, &q->z);
  fq_sqr(&z3, &z3);
  fq_sub(&z3, &z3, &z1z1);
  fq_sub(&z3, &z3, &z2z2);
  fq_mul(&z3, &z3, &h);
  p->x = x3;
  p->y = y3;
  p->z = z3;
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

/* out = sum scalars[i] * bases[i]. Returns 0 on allocation failure. */
static int msm(const uint8_t *bases, const uint8_t *scalars, size_t n, uint8_t out[96]) {
  g1_jac acc;
  jac_set_inf(&acc);
  /* The highest set bit over all scalars bounds the number of windows. */
  unsigned top = 0;
  for (size_t i = 0; i < n; i++) {
    for (int l = 3; l >= 0; l--) {
      const u64 v = load_le64(scalars + 32 * i + 8 * l);
      if (v) {
        const unsigned b = 64 * (unsigned)l + 64 - (unsigned)__builtin_clzll(v);
        if (b > top) top = b;
        break;
      }
    }
  }
  if (top > 0) {
    const unsigned c = window_bits(n);
    const size_t nb = (size_t)1 << c;
    g1_jac *buckets = (g1_jac *)malloc(nb * sizeof(g1_jac));
    if (!buckets) return 0;
    const unsigned windows = (top + c - 1) / c;
    for (int w = (int)windows - 1; w >= 0; w--) {
      for (unsigned k = 0; k < c; k++) jac_dbl(&acc, &acc);
      for (size_t b = 0; b < nb; b++) jac_set_inf(&buckets[b]);
      for (size_t i = 0; i < n; i++) {
        const unsigned d = window_of(scalars + 32 * i, (unsigned)w * c, c);
        if (!d) continue;
        g1_affine p;
        memcpy(&p, bases + 64 * i, 64);
        if (fq_is_zero(&p.x) && fq_is_zero(&p.y)) continue;
        jac_add_affine(&buckets[d], &p);
      }
      /* sum_d d * bucket[d] by running sums, from the top bucket down. */
      g1_jac running, sum;
      jac_set_inf(&running);
      jac_set_inf(&sum);
      for (size_t b = nb - 1; b >= 1; b--) {
        jac_add(&running, &buckets[b]);
        jac_add(&sum, &running);
      }
      jac_add(&acc, &sum);
    }
    free(buckets);
  }
  memcpy(out, &acc, 96);
  return 1;
}

#define get_bytes napi_uint8_bytes

typedef struct {
  uint8_t *bases, *scalars, *out;
  size_t n;
  int ok;
  napi_ref refs[3];
  napi_deferred deferred;
  napi_async_work work;
} job_t;

/* (bases, scalars, out): n*64, n*32 and 96 bytes. */
static int parse_job(napi_env env, napi_callback_info info, job_t *job, napi_value argv[3]) {
  size_t argc = 3, lb, ls, lo;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc != 3 || !get_bytes(env, argv[0], &job->bases, &lb) || !get_bytes(env, argv[1], &job->scalars, &ls) ||
      !get_bytes(env, argv[2], &job->out, &lo)) {
    napi_throw_type_error(env, NULL, "expects (bases: Uint8Array, scalars: Uint8Array, out: Uint8Array)");
    return 0;
  }
  if (lb % 64 != 0 || ls != lb / 2 || lo != 96) {
    napi_throw_range_error(env, NULL, "bases must be n * 64 bytes, scalars n * 32 bytes and out 96 bytes");
    return 0;
  }
  job->n = lb / 64;
  return 1;
}

static napi_value msm_sync(napi_env env, napi_callback_info info) {
  job_t job;
  napi_value argv[3];
  if (!parse_job(env, info, &job, argv)) return NULL;
  if (!msm(job.bases, job.scalars, job.n, job.out)) napi_throw_error(env, NULL, "msm-bn254: out of memory");
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = (job_t *)data;
  job->ok = msm(job->bases, job->scalars, job->n, job->out);
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

/* msmAsync(bases, scalars, out) -> Promise<void>, on the libuv thread pool. The arrays must
 * not change until the promise settles. */
static napi_value msm_async(napi_env env, napi_callback_info info) {
  job_t *job = (job_t *)calloc(1, sizeof(job_t));
  if (!job) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_value argv[3], promise, name;
  if (!parse_job(env, info, job, argv)) {
    free(job);
    return NULL;
  }
  for (int i = 0; i < 3; i++) {
    if (napi_create_reference(env, argv[i], 1, &job->refs[i]) != napi_ok) {
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"msm", NULL, msm_sync, NULL, NULL, NULL, napi_default, NULL},
    {"msmAsync", NULL, msm_async, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
