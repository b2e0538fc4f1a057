// One-pass CPU kernels for the SE block end, relu(x * gate + identity), and its backward.
// x, identity, out, grad_out: contiguous (N, C, H, W); gate: contiguous (N, C, 1, 1).
// Built on demand by se_backbones/layers/fused_op.py; the PyTorch formulas in
// scale_add_relu.py are the fallback and the reference.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace {

int64_t plane_size(const torch::Tensor& x) {
  const int64_t planes = x.size(0) * x.size(1);
  return planes == 0 ? 0 : x.numel() / planes;
}

// out = relu(x * gate + identity): the product rounded, then the sum, as the plain formula.
template <typename T>
void forward_kernel(const T* __restrict__ x, const T* __restrict__ gate,
                    const T* __restrict__ identity, T* out, int64_t planes, int64_t hw) {
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T g = gate[p];
      const T* __restrict__ xp = x + p * hw;
      const T* __restrict__ ip = identity + p * hw;
      T* op = out + p * hw;  // may be x itself (in place)
      for (int64_t i = 0; i < hw; ++i) {
        const T v = xp[i] * g + ip[i];
        op[i] = v > T(0) ? v : T(0);
      }
    }
  });
}

// grad_pre = grad_out where out > 0 (ReLU's backward), grad_x = grad_pre * gate,
// grad_gate = sum over H, W of grad_pre * (out - identity) / gate  (x * gate = out - identity
// where out > 0). Every load is unconditional, so the loop vectorises without branches.
template <typename T>
void backward_kernel(const T* __restrict__ grad_out, const T* __restrict__ out,
                     const T* __restrict__ gate, const T* __restrict__ identity,
                     T* __restrict__ grad_pre, T* __restrict__ grad_x, T* __restrict__ grad_gate,
                     int64_t planes, int64_t hw) {
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T g = gate[p];
      const T* __restrict__ gop = grad_out + p * hw;
      const T* __restrict__ op = out + p * hw;
      const T* __restrict__ ip = identity + p * hw;
      T* __restrict__ pp = grad_pre + p * hw;
      T* __restrict__ xp = grad_x + p * hw;
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < hw; ++i) {
        const T o = op[i], go = gop[i], scaled = o - ip[i];
        const T m = o > T(0) ? go : T(0);
        pp[i] = m;
        xp[i] = m * g;
        sum += m * scaled;
      }
      grad_gate[p] = sum / std::max(g, std::numeric_limits<T>::min());
    }
  });
}

torch::Tensor forward(torch::Tensor x, torch::Tensor gate, torch::Tensor identity, bool inplace) {
  auto out = inplace ? x : torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "se_scale_add_relu_forward", [&] {
    forward_kernel<scalar_t>(x.data_ptr<scalar_t>(), gate.data_ptr<scalar_t>(),
                             identity.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                             x.size(0) * x.size(1), plane_size(x));
  });
  return out;
}

std::vector<torch::Tensor> backward(torch::Tensor grad_out, torch::Tensor out, torch::Tensor gate,
                                    torch::Tensor identity) {
  auto grad_pre = torch::empty_like(out), grad_x = torch::empty_like(out);
  auto grad_gate = torch::empty_like(gate);
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "se_scale_add_relu_backward", [&] {
    backward_kernel<scalar_t>(grad_out.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                              gate.data_ptr<scalar_t>(), identity.data_ptr<scalar_t>(),
                              grad_pre.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(),
                              grad_gate.data_ptr<scalar_t>(), out.size(0) * out.size(1),
                              plane_size(out));
  });
  return {grad_x, grad_gate, grad_pre};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "relu(x * gate + identity), into x if inplace");
  m.def("backward", &backward, "(grad_x, grad_gate, grad_identity) of relu(x * gate + identity)");
}
