/*
 * Block-tridiagonal Cholesky solve as an XLA FFI handler (CPU), callable from inside jit.
 *
 * Why: the damped Newton step of the path solvers solves H dx = -g with H block tridiagonal
 * (M blocks of n x n). On the CPU, LAPACK's banded Cholesky behind jax.pure_callback costs
 * ~0.3-0.5 ms per call at M = 1000, n = 2, almost all of it the Python round trip; this kernel
 * does the same O(M n^3) factorisation in ~40 us without leaving XLA.
 *
 * Operands (float64, row major):  B (..., M, n, n)   diagonal blocks (lower triangle read)
 *                                 C (..., M-1, n, n) C[k] couples block k (rows) to k+1 (cols)
 *                                 r (..., M, n)      right-hand side
 * Results:                        x (..., M, n)      solution of H x = r
 *                                 ok (...)           bool: H positive definite, x finite
 * Leading (batch) dimensions are looped over.
 *
 * Two more targets split the solve for many right-hand sides against one matrix (the
 * certificate's shift-invert Lanczos, ~16 solves): "factor" (B, C) -> (L, W (..., M, n, n),
 * ok (...)) and "substitute" (L, W, r) -> x, the same arithmetic as the solve's two halves.
 *
 * Algorithm: H = L L^T with block-lower L: diagonal blocks L_k (lower triangular) and
 * sub-diagonal blocks W_k^T, where W_k = L_{k-1}^-1 C_{k-1} and L_k L_k^T = B_k - W_k^T W_k.
 * Then L y = r (forward) and L^T x = y (backward). A pivot that is not > 0 (or not finite)
 * means H is not positive definite: ok = false and x = 0 (a normal outcome: the damped Newton
 * step is rejected and the damping raised).
 *
 * Errors (returned to XLA as ffi::Error, raised in Python as jax.errors.JaxRuntimeError, a
 * RuntimeError, with the message): a wrong number of operands or a dtype other than
 * f64/f64/f64 -> f64/pred (checked by XLA's typed binding before this code runs), shapes that
 * do not fit together (checked here), a workspace that cannot be allocated.
 *
 * C-ABI compatibility. The handler is built against the FFI headers that jaxlib ships
 * (jax.ffi.include_dir(): xla/ffi/api/{c_api,api,ffi}.h; see setup.py), so the structs XLA
 * passes (call frame, buffers, metadata extension) are declared by XLA itself, never by hand.
 * The binding answers XLA's metadata query with the API version of those headers
 * (XLA_FFI_API_MAJOR.XLA_FFI_API_MINOR, 0.3 for jaxlib 0.10). XLA promises: fields are only
 * appended (every struct starts with its size), the major version changes only on a break, and
 * old minor versions stay supported for at least 12 months. So a build keeps working across
 * jaxlib upgrades within that window; a runtime jaxlib OLDER than the build's headers, or a new
 * major version, makes XLA refuse the handler at registration or at its first call: that is a
 * Python exception (never a crash), caught by _native.native_available(), which then reports
 * False and the solvers use LAPACK through a host callback. Rebuild (pip install -e .) after
 * changing jaxlib to get the kernel back. The Python module below only hands XLA a pointer to
 * the handler (a PyCapsule); it calls no XLA function, so it links against nothing of jaxlib.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

/* ---- the numerics ------------------------------------------------------------------------ */

/* In-place lower Cholesky of the n x n block A (row major, lower triangle used). The diagonal
 * is stored as its reciprocal 1/L_jj, so that the substitutions below multiply instead of
 * divide: the factorisation is a sequential recurrence over the blocks, and a division's
 * latency is what bounds it for small n. */
template <int64_t NC>
bool chol_lower(double *A, int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    for (int64_t j = 0; j < n; j++) {
        double d = A[j * n + j];
        for (int64_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
        if (!(d > 0.0) || !std::isfinite(d)) return false;
        const double inv = 1.0 / std::sqrt(d);
        A[j * n + j] = inv;
        for (int64_t i = j + 1; i < n; i++) {
            double s = A[i * n + j];
            for (int64_t k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = s * inv;
        }
        for (int64_t i = 0; i < j; i++) A[i * n + j] = 0.0;
    }
    return true;
}

/* y <- L^-1 y (forward substitution), L from chol_lower, y of stride `stride`. */
template <int64_t NC>
void lower_solve(const double *L, double *y, int64_t n_in, int64_t stride) {
    const int64_t n = NC > 0 ? NC : n_in;
    for (int64_t i = 0; i < n; i++) {
        double s = y[i * stride];
        for (int64_t k = 0; k < i; k++) s -= L[i * n + k] * y[k * stride];
        y[i * stride] = s * L[i * n + i];
    }
}

/* y <- L^-T y (backward substitution with the transpose of L from chol_lower). */
template <int64_t NC>
void lower_t_solve(const double *L, double *y, int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    for (int64_t i = n - 1; i >= 0; i--) {
        double s = y[i];
        for (int64_t k = i + 1; k < n; k++) s -= L[k * n + i] * y[k];
        y[i] = s * L[i * n + i];
    }
}

/* Block k of the factorisation: L_k (and W_k = L_{k-1}^-1 C_{k-1}, zero for k = 0) from B_k,
 * C_{k-1} and L_{k-1}; false where the pivot is not positive. */
template <int64_t NC>
bool factor_block(const double *B, const double *C, double *L, double *W, int64_t k,
                  int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    const int64_t nn = n * n;
    double *Lk = L + k * nn, *Wk = W + k * nn;
    std::memcpy(Lk, B + k * nn, static_cast<size_t>(nn) * sizeof(double));
    if (k > 0) {
        /* W_k = L_{k-1}^-1 C_{k-1}, column by column; then S = B_k - W_k^T W_k. */
        std::memcpy(Wk, C + (k - 1) * nn, static_cast<size_t>(nn) * sizeof(double));
        for (int64_t c = 0; c < n; c++) lower_solve<NC>(L + (k - 1) * nn, Wk + c, n, n);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j <= i; j++) {
                double s = 0.0;
                for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * Wk[m * n + j];
                Lk[i * n + j] -= s;
            }
    } else {
        std::memset(Wk, 0, static_cast<size_t>(nn) * sizeof(double));
    }
    return chol_lower<NC>(Lk, n);
}

/* Forward substitution, block k: y_k = L_k^-1 (r_k - W_k^T y_{k-1}), stored in x. */
template <int64_t NC>
void forward_block(const double *L, const double *W, const double *r, double *x, int64_t k,
                   int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    const int64_t nn = n * n;
    double *yk = x + k * n;
    std::memcpy(yk, r + k * n, static_cast<size_t>(n) * sizeof(double));
    if (k > 0) {
        const double *Wk = W + k * nn, *yp = x + (k - 1) * n;
        for (int64_t i = 0; i < n; i++) {
            double s = 0.0;
            for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * yp[m];
            yk[i] -= s;
        }
    }
    lower_solve<NC>(L + k * nn, yk, n, 1);
}

/* Backward substitution, block k of M: x_k = L_k^-T (y_k - W_{k+1} x_{k+1}). */
template <int64_t NC>
void backward_block(const double *L, const double *W, double *x, int64_t k, int64_t M,
                    int64_t n_in) {
    const int64_t n = NC > 0 ? NC : n_in;
    const int64_t nn = n * n;
    double *xk = x + k * n;
    if (k < M - 1) {
        const double *Wn = W + (k + 1) * nn, *xn = x + (k + 1) * n;
        for (int64_t i = 0; i < n; i++) {
            double s = 0.0;
            for (int64_t m = 0; m < n; m++) s += Wn[i * n + m] * xn[m];
            xk[i] -= s;
        }
    }
    lower_t_solve<NC>(L + k * nn, xk, n);
}

/* Solve G independent systems of one shape (M blocks of n x n) together, block by block;
 * work holds 2 M n^2 doubles per system; ok[g] says whether system g succeeded (else its x
 * is zero). Each system's arithmetic is that of solving it alone, in the same order: only
 * the order between systems changes. Why together: for small n the factorisation is a chain
 * of dependent square roots and divisions (latency-bound), and the processor overlaps the
 * chains of systems that sit side by side in the instruction stream (the Newton step's
 * damped and undamped Hessians, solved in one call: 23 -> 15.6 us for the two at M = 198,
 * n = 2, measured). */
template <int64_t NC>
void blocktri_solve_group(const double *const *B, const double *const *C, const double *const *r,
                          double *const *x, bool *ok, int64_t G, int64_t M, int64_t n,
                          double *work) {
    const int64_t span = 2 * M * n * n; /* a system's L, then its W */
    for (int64_t g = 0; g < G; g++) ok[g] = true;
    for (int64_t k = 0; k < M; k++)
        for (int64_t g = 0; g < G; g++)
            if (ok[g])
                ok[g] = factor_block<NC>(B[g], C[g], work + g * span,
                                         work + g * span + M * n * n, k, n);
    for (int64_t k = 0; k < M; k++)
        for (int64_t g = 0; g < G; g++)
            if (ok[g])
                forward_block<NC>(work + g * span, work + g * span + M * n * n, r[g], x[g], k, n);
    for (int64_t k = M - 1; k >= 0; k--)
        for (int64_t g = 0; g < G; g++)
            if (ok[g])
                backward_block<NC>(work + g * span, work + g * span + M * n * n, x[g], k, M, n);
    for (int64_t g = 0; g < G; g++) {
        for (int64_t i = 0; ok[g] && i < M * n; i++)
            if (!std::isfinite(x[g][i])) ok[g] = false;
        if (!ok[g]) std::memset(x[g], 0, static_cast<size_t>(M * n) * sizeof(double));
    }
}

/* The factors of one system into L, W (M n^2 doubles each); true on success. */
template <int64_t NC>
bool blocktri_factor(const double *B, const double *C, double *L, double *W, int64_t M,
                     int64_t n) {
    for (int64_t k = 0; k < M; k++)
        if (!factor_block<NC>(B, C, L, W, k, n)) return false;
    return true;
}

/* x = H^-1 r from the factors L, W of blocktri_factor. */
template <int64_t NC>
void blocktri_substitute(const double *L, const double *W, const double *r, double *x,
                         int64_t M, int64_t n) {
    for (int64_t k = 0; k < M; k++) forward_block<NC>(L, W, r, x, k, n);
    for (int64_t k = M - 1; k >= 0; k--) backward_block<NC>(L, W, x, k, M, n);
}

/* The numerics above for block size n: compiled for n = 1..4 with loops of known length
 * (unrolled: at n = 2 a solve takes ~2x less time), the same arithmetic in the same order;
 * n at run time otherwise. */
#define NN_BY_BLOCK_SIZE(n, call) \
    switch (n) {                  \
        case 1: call(1); break;   \
        case 2: call(2); break;   \
        case 3: call(3); break;   \
        case 4: call(4); break;   \
        default: call(0); break;  \
    }

void solve_group(const double *const *B, const double *const *C, const double *const *r,
                 double *const *x, bool *ok, int64_t G, int64_t M, int64_t n, double *work) {
#define NN_CALL(NC) blocktri_solve_group<NC>(B, C, r, x, ok, G, M, n, work)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
}

bool factor(const double *B, const double *C, double *L, double *W, int64_t M, int64_t n) {
    bool good = false;
#define NN_CALL(NC) good = blocktri_factor<NC>(B, C, L, W, M, n)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
    return good;
}

void substitute(const double *L, const double *W, const double *r, double *x, int64_t M,
                int64_t n) {
#define NN_CALL(NC) blocktri_substitute<NC>(L, W, r, x, M, n)
    NN_BY_BLOCK_SIZE(n, NN_CALL)
#undef NN_CALL
}

/* Systems solved together (see blocktri_solve_group). */
constexpr int64_t kGroup = 4;

/* ---- the handler ------------------------------------------------------------------------- */

/* Largest workspace the handler may allocate, in bytes. Only lowered by the test hook
 * _set_workspace_limit (to exercise the allocation-failure error); otherwise unlimited. */
std::atomic<size_t> workspace_limit{std::numeric_limits<size_t>::max()};

const char *const kName = "noisynoether block-tridiagonal kernel";

std::string shape_str(ffi::Span<const int64_t> d) {
    std::string s = "(";
    for (size_t i = 0; i < d.size(); i++) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + (d.size() == 1 ? ",)" : ")");
}

/* True when d is lead + tail (lead = the first `nlead` entries of `ref`). */
bool fits(ffi::Span<const int64_t> d, ffi::Span<const int64_t> ref, size_t nlead,
          std::initializer_list<int64_t> tail) {
    if (d.size() != nlead + tail.size()) return false;
    for (size_t i = 0; i < nlead; i++)
        if (d[i] != ref[i]) return false;
    size_t i = nlead;
    for (int64_t t : tail)
        if (d[i++] != t) return false;
    return true;
}

ffi::Error BlocktriSolveImpl(ffi::Buffer<ffi::F64> Bb, ffi::Buffer<ffi::F64> Cb,
                             ffi::Buffer<ffi::F64> rb, ffi::ResultBuffer<ffi::F64> xb,
                             ffi::ResultBuffer<ffi::PRED> okb) {
    const auto bd = Bb.dimensions();
    if (bd.size() < 3)
        return ffi::Error::InvalidArgument(std::string(kName) + ": B must have shape (..., M, n, n), got " +
                                           shape_str(bd));
    const size_t nlead = bd.size() - 3;
    const int64_t M = bd[nlead], n = bd[nlead + 2];
    const int64_t Mc = M > 0 ? M - 1 : 0;
    if (bd[nlead + 1] != n || !fits(Cb.dimensions(), bd, nlead, {Mc, n, n}) ||
        !fits(rb.dimensions(), bd, nlead, {M, n}) || !fits(xb->dimensions(), bd, nlead, {M, n}) ||
        !fits(okb->dimensions(), bd, nlead, {}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + ": shapes do not fit together: B " + shape_str(bd) + ", C " +
            shape_str(Cb.dimensions()) + ", r " + shape_str(rb.dimensions()) + " -> x " +
            shape_str(xb->dimensions()) + ", ok " + shape_str(okb->dimensions()) +
            "; expected B (..., M, n, n), C (..., M-1, n, n), r and x (..., M, n), ok (...)");
    int64_t batch = 1;
    for (size_t i = 0; i < nlead; i++) batch *= bd[i];
    bool *ok = okb->typed_data();
    if (batch == 0) return ffi::Error::Success();
    if (M * n == 0) {
        for (int64_t b = 0; b < batch; b++) ok[b] = true;
        return ffi::Error::Success();
    }
    /* Workspace: 2 M n^2 doubles (the factors L_k and W_k) per system of a group, reused
     * across the batch. */
    const int64_t group = batch < kGroup ? batch : kGroup;
    const size_t per_block =
        2 * sizeof(double) * static_cast<size_t>(n) * static_cast<size_t>(n) * group;
    const bool overflow = static_cast<size_t>(M) > std::numeric_limits<size_t>::max() / per_block;
    const size_t bytes = overflow ? 0 : per_block * static_cast<size_t>(M);
    std::unique_ptr<double, decltype(&std::free)> work(nullptr, &std::free);
    if (!overflow && bytes <= workspace_limit.load())
        work.reset(static_cast<double *>(std::malloc(bytes)));
    if (!work)
        return ffi::Error(
            ffi::ErrorCode::kResourceExhausted,
            std::string(kName) + ": could not allocate its workspace of " +
                (overflow ? std::string("more than SIZE_MAX") : std::to_string(bytes)) +
                " bytes (2 M n^2 doubles per system, M = " + std::to_string(M) +
                " blocks of n = " + std::to_string(n) + ", " + std::to_string(group) +
                " systems); free memory, use fewer time points, or pass "
                "linear_solver='lapack' or 'scan'");
    const double *Bp[kGroup], *Cp[kGroup], *rp[kGroup];
    double *xp[kGroup];
    bool okg[kGroup];
    for (int64_t b0 = 0; b0 < batch; b0 += group) {
        const int64_t G = batch - b0 < group ? batch - b0 : group;
        for (int64_t g = 0; g < G; g++) {
            const int64_t b = b0 + g;
            Bp[g] = Bb.typed_data() + b * M * n * n;
            Cp[g] = Cb.typed_data() + b * Mc * n * n;
            rp[g] = rb.typed_data() + b * M * n;
            xp[g] = xb->typed_data() + b * M * n;
        }
        solve_group(Bp, Cp, rp, xp, okg, G, M, n, work.get());
        for (int64_t g = 0; g < G; g++) ok[b0 + g] = okg[g];
    }
    return ffi::Error::Success();
}

/* (B, C) -> (L, W, ok): the factors, zero where H is not positive definite. */
ffi::Error BlocktriFactorImpl(ffi::Buffer<ffi::F64> Bb, ffi::Buffer<ffi::F64> Cb,
                              ffi::ResultBuffer<ffi::F64> Lb, ffi::ResultBuffer<ffi::F64> Wb,
                              ffi::ResultBuffer<ffi::PRED> okb) {
    const auto bd = Bb.dimensions();
    if (bd.size() < 3)
        return ffi::Error::InvalidArgument(std::string(kName) +
                                           ": B must have shape (..., M, n, n), got " +
                                           shape_str(bd));
    const size_t nlead = bd.size() - 3;
    const int64_t M = bd[nlead], n = bd[nlead + 2];
    const int64_t Mc = M > 0 ? M - 1 : 0;
    if (bd[nlead + 1] != n || !fits(Cb.dimensions(), bd, nlead, {Mc, n, n}) ||
        !fits(Lb->dimensions(), bd, nlead, {M, n, n}) ||
        !fits(Wb->dimensions(), bd, nlead, {M, n, n}) || !fits(okb->dimensions(), bd, nlead, {}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + " (factor): shapes do not fit together: B " + shape_str(bd) +
            ", C " + shape_str(Cb.dimensions()) + "; expected B (..., M, n, n), C (..., M-1, n, n)");
    int64_t batch = 1;
    for (size_t i = 0; i < nlead; i++) batch *= bd[i];
    for (int64_t b = 0; b < batch; b++) {
        double *L = Lb->typed_data() + b * M * n * n, *W = Wb->typed_data() + b * M * n * n;
        const bool good =
            factor(Bb.typed_data() + b * M * n * n, Cb.typed_data() + b * Mc * n * n, L, W, M, n);
        if (!good) {
            std::memset(L, 0, static_cast<size_t>(M * n * n) * sizeof(double));
            std::memset(W, 0, static_cast<size_t>(M * n * n) * sizeof(double));
        }
        okb->typed_data()[b] = good;
    }
    return ffi::Error::Success();
}

/* (L, W, r) -> x = H^-1 r from blocktri_factor's factors (x = 0 from the zero factors of a
 * failed factorisation: the caller uses x only where its ok was true). */
ffi::Error BlocktriSubstituteImpl(ffi::Buffer<ffi::F64> Lb, ffi::Buffer<ffi::F64> Wb,
                                  ffi::Buffer<ffi::F64> rb, ffi::ResultBuffer<ffi::F64> xb) {
    const auto ld = Lb.dimensions();
    if (ld.size() < 3)
        return ffi::Error::InvalidArgument(std::string(kName) +
                                           ": L must have shape (..., M, n, n), got " +
                                           shape_str(ld));
    const size_t nlead = ld.size() - 3;
    const int64_t M = ld[nlead], n = ld[nlead + 2];
    if (ld[nlead + 1] != n || !fits(Wb.dimensions(), ld, nlead, {M, n, n}) ||
        !fits(rb.dimensions(), ld, nlead, {M, n}) || !fits(xb->dimensions(), ld, nlead, {M, n}))
        return ffi::Error::InvalidArgument(
            std::string(kName) + " (substitute): shapes do not fit together: L " +
            shape_str(ld) + ", W " + shape_str(Wb.dimensions()) + ", r " +
            shape_str(rb.dimensions()) + "; expected L and W (..., M, n, n), r (..., M, n)");
    int64_t batch = 1;
    for (size_t i = 0; i < nlead; i++) batch *= ld[i];
    for (int64_t b = 0; b < batch; b++)
        substitute(Lb.typed_data() + b * M * n * n, Wb.typed_data() + b * M * n * n,
                   rb.typed_data() + b * M * n, xb->typed_data() + b * M * n, M, n);
    return ffi::Error::Success();
}

}  // namespace

/* The XLA-visible symbol: XLA's typed binding checks the number of operands and results and
 * each one's dtype before calling BlocktriSolveImpl, and answers the metadata query. */
XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriSolve, BlocktriSolveImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // B
                                  .Arg<ffi::Buffer<ffi::F64>>()   // C
                                  .Arg<ffi::Buffer<ffi::F64>>()   // r
                                  .Ret<ffi::Buffer<ffi::F64>>()   // x
                                  .Ret<ffi::Buffer<ffi::PRED>>()  // ok
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriFactor, BlocktriFactorImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // B
                                  .Arg<ffi::Buffer<ffi::F64>>()   // C
                                  .Ret<ffi::Buffer<ffi::F64>>()   // L
                                  .Ret<ffi::Buffer<ffi::F64>>()   // W
                                  .Ret<ffi::Buffer<ffi::PRED>>()  // ok
);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NoisyNoetherBlocktriSubstitute, BlocktriSubstituteImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F64>>()   // L
                                  .Arg<ffi::Buffer<ffi::F64>>()   // W
                                  .Arg<ffi::Buffer<ffi::F64>>()   // r
                                  .Ret<ffi::Buffer<ffi::F64>>()   // x
);

/* ---- the Python module: hands the handler to jax.ffi.register_ffi_target ----------------- */

namespace {

PyObject *handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriSolve), nullptr, nullptr);
}

PyObject *factor_handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriFactor), nullptr, nullptr);
}

PyObject *substitute_handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriSubstitute), nullptr,
                         nullptr);
}

PyObject *ffi_api_version(PyObject *, PyObject *) {
    return Py_BuildValue("(ii)", XLA_FFI_API_MAJOR, XLA_FFI_API_MINOR);
}

PyObject *set_workspace_limit(PyObject *, PyObject *arg) {
    const unsigned long long limit = PyLong_AsUnsignedLongLong(arg);
    if (limit == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return nullptr;
    const size_t old = workspace_limit.exchange(static_cast<size_t>(limit));
    return PyLong_FromUnsignedLongLong(old);
}

PyMethodDef methods[] = {
    {"handler", handler, METH_NOARGS, "PyCapsule with the XLA FFI handler (CPU)."},
    {"factor_handler", factor_handler, METH_NOARGS,
     "PyCapsule with the XLA FFI handler of the factorisation alone (CPU)."},
    {"substitute_handler", substitute_handler, METH_NOARGS,
     "PyCapsule with the XLA FFI handler of the substitutions alone (CPU)."},
    {"ffi_api_version", ffi_api_version, METH_NOARGS,
     "(major, minor) of the XLA FFI headers this module was built against."},
    {"_set_workspace_limit", set_workspace_limit, METH_O,
     "Test hook: refuse workspaces above this many bytes (as a failed allocation would); "
     "returns the previous limit."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_blocktri",
    "Block-tridiagonal Cholesky solve as an XLA FFI handler (see _native.py).", -1, methods,
    nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__blocktri(void) { return PyModule_Create(&module); }
