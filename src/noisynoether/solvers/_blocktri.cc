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
bool chol_lower(double *A, int64_t n) {
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
void lower_solve(const double *L, double *y, int64_t n, int64_t stride) {
    for (int64_t i = 0; i < n; i++) {
        double s = y[i * stride];
        for (int64_t k = 0; k < i; k++) s -= L[i * n + k] * y[k * stride];
        y[i * stride] = s * L[i * n + i];
    }
}

/* y <- L^-T y (backward substitution with the transpose of L from chol_lower). */
void lower_t_solve(const double *L, double *y, int64_t n) {
    for (int64_t i = n - 1; i >= 0; i--) {
        double s = y[i];
        for (int64_t k = i + 1; k < n; k++) s -= L[k * n + i] * y[k];
        y[i] = s * L[i * n + i];
    }
}

/* Solve one system; work holds 2 M n^2 doubles. Returns true on success. */
bool blocktri_solve(const double *B, const double *C, const double *r, double *x, int64_t M,
                    int64_t n, double *work) {
    const int64_t nn = n * n;
    double *L = work, *W = work + M * nn;
    for (int64_t k = 0; k < M; k++) {
        double *Lk = L + k * nn, *Wk = W + k * nn;
        std::memcpy(Lk, B + k * nn, static_cast<size_t>(nn) * sizeof(double));
        if (k > 0) {
            /* W_k = L_{k-1}^-1 C_{k-1}, column by column; then S = B_k - W_k^T W_k. */
            std::memcpy(Wk, C + (k - 1) * nn, static_cast<size_t>(nn) * sizeof(double));
            for (int64_t c = 0; c < n; c++) lower_solve(L + (k - 1) * nn, Wk + c, n, n);
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j <= i; j++) {
                    double s = 0.0;
                    for (int64_t m = 0; m < n; m++) s += Wk[m * n + i] * Wk[m * n + j];
                    Lk[i * n + j] -= s;
                }
        }
        if (!chol_lower(Lk, n)) return false;
    }
    /* Forward: y_k = L_k^-1 (r_k - W_k^T y_{k-1}), stored in x. */
    for (int64_t k = 0; k < M; k++) {
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
        lower_solve(L + k * nn, yk, n, 1);
    }
    /* Backward: x_k = L_k^-T (y_k - W_{k+1} x_{k+1}). */
    for (int64_t k = M - 1; k >= 0; k--) {
        double *xk = x + k * n;
        if (k < M - 1) {
            const double *Wn = W + (k + 1) * nn, *xn = x + (k + 1) * n;
            for (int64_t i = 0; i < n; i++) {
                double s = 0.0;
                for (int64_t m = 0; m < n; m++) s += Wn[i * n + m] * xn[m];
                xk[i] -= s;
            }
        }
        lower_t_solve(L + k * nn, xk, n);
    }
    for (int64_t i = 0; i < M * n; i++)
        if (!std::isfinite(x[i])) return false;
    return true;
}

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
    /* Workspace: 2 M n^2 doubles (the factors L_k and W_k), reused across the batch. */
    const size_t per_block = 2 * sizeof(double) * static_cast<size_t>(n) * static_cast<size_t>(n);
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
                " bytes (2 M n^2 doubles, M = " + std::to_string(M) + " blocks of n = " +
                std::to_string(n) + "); free memory, use fewer time points, or pass "
                "linear_solver='lapack' or 'scan'");
    for (int64_t b = 0; b < batch; b++) {
        const double *B = Bb.typed_data() + b * M * n * n;
        const double *C = Cb.typed_data() + b * Mc * n * n;
        const double *r = rb.typed_data() + b * M * n;
        double *x = xb->typed_data() + b * M * n;
        const bool good = blocktri_solve(B, C, r, x, M, n, work.get());
        if (!good) std::memset(x, 0, static_cast<size_t>(M * n) * sizeof(double));
        ok[b] = good;
    }
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

/* ---- the Python module: hands the handler to jax.ffi.register_ffi_target ----------------- */

namespace {

PyObject *handler(PyObject *, PyObject *) {
    return PyCapsule_New(reinterpret_cast<void *>(&NoisyNoetherBlocktriSolve), nullptr, nullptr);
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
