//===- Optimizer.cpp - Naive AdamW and Adafactor --------------------------===//
//
// Written from the papers' update rules (and PyTorch's AdamW), one loop per
// formula, as the rest of the reference.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>

using mlir::convseq::OptimizerKind;
using mlir::convseq::ScheduleKind;
using mlir::convseq::TrainingConfig;

namespace convseq::reference {

double learningRate(const TrainingConfig &training, int64_t step) {
  double t = static_cast<double>(step);
  double warmup = static_cast<double>(training.warmupSteps);
  double total = static_cast<double>(training.steps);
  double base = training.learningRate.value_or(1e-2);
  switch (training.schedule) {
  case ScheduleKind::Constant:
    return base;
  case ScheduleKind::LinearWarmupDecay: {
    double factor = 1.0;
    if (warmup > 0)
      factor = std::min(factor, t / warmup);
    if (total > warmup)
      factor = std::min(factor, (total - t) / (total - warmup));
    return base * std::max(0.0, factor);
  }
  case ScheduleKind::InverseSqrt: {
    double w = std::max(warmup, 1.0);
    double inverseRoot = 1.0 / std::sqrt(std::max(t, w));
    if (!training.learningRate)
      return inverseRoot;
    return *training.learningRate * std::sqrt(w) * inverseRoot;
  }
  }
  return base;
}

namespace {

double rms(const std::vector<double> &values) {
  double sum = 0.0;
  for (double v : values)
    sum += v * v;
  return std::sqrt(sum / static_cast<double>(values.size()));
}

Tensor<double> &stateFor(TensorMap<double> &state, const std::string &name,
                         std::vector<int64_t> shape) {
  auto it = state.find(name);
  if (it == state.end())
    it = state.emplace(name, Tensor<double>(std::move(shape))).first;
  return it->second;
}

void adamw(const TrainingConfig &training, double lr, int64_t step,
           const std::string &name, std::vector<double> g,
           Tensor<double> &param, TensorMap<double> &state) {
  const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  Tensor<double> &m = stateFor(state, "opt.m." + name, param.shape);
  Tensor<double> &v = stateFor(state, "opt.v." + name, param.shape);
  double t = static_cast<double>(step);
  double correction1 = 1.0 - std::pow(beta1, t);
  double correction2 = 1.0 - std::pow(beta2, t);
  for (size_t e = 0; e < g.size(); ++e) {
    m.data[e] = beta1 * m.data[e] + (1.0 - beta1) * g[e];
    v.data[e] = beta2 * v.data[e] + (1.0 - beta2) * g[e] * g[e];
    param.data[e] *= 1.0 - lr * training.weightDecay;
    double mHat = m.data[e] / correction1;
    double vHat = v.data[e] / correction2;
    param.data[e] -= lr * mHat / (std::sqrt(vHat) + epsilon);
  }
}

void adafactor(const TrainingConfig &training, double lr, int64_t step,
               const std::string &name, std::vector<double> g,
               Tensor<double> &param, TensorMap<double> &state) {
  const double epsilon1 = 1e-30, epsilon2 = 1e-3, clipThreshold = 1.0;
  double beta = 1.0 - std::pow(static_cast<double>(step), -0.8);
  std::vector<double> u(g.size());
  if (param.rank() == 2) {
    int64_t n = param.dim(0), m = param.dim(1);
    Tensor<double> &row = stateFor(state, "opt.v_row." + name, {n});
    Tensor<double> &col = stateFor(state, "opt.v_col." + name, {m});
    for (int64_t i = 0; i < n; ++i) {
      double mean = 0.0;
      for (int64_t j = 0; j < m; ++j)
        mean += g[i * m + j] * g[i * m + j] + epsilon1;
      row.data[i] = beta * row.data[i] + (1.0 - beta) * mean / m;
    }
    for (int64_t j = 0; j < m; ++j) {
      double mean = 0.0;
      for (int64_t i = 0; i < n; ++i)
        mean += g[i * m + j] * g[i * m + j] + epsilon1;
      col.data[j] = beta * col.data[j] + (1.0 - beta) * mean / n;
    }
    double rowMean = 0.0;
    for (double r : row.data)
      rowMean += r / n;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j)
        u[i * m + j] =
            g[i * m + j] / std::sqrt(row.data[i] * col.data[j] / rowMean);
  } else {
    Tensor<double> &v = stateFor(state, "opt.v." + name, param.shape);
    for (size_t e = 0; e < g.size(); ++e) {
      v.data[e] = beta * v.data[e] + (1.0 - beta) * (g[e] * g[e] + epsilon1);
      u[e] = g[e] / std::sqrt(v.data[e]);
    }
  }
  double clip = std::max(1.0, rms(u) / clipThreshold);
  double stepSize = lr;
  if (!training.learningRate)
    stepSize *= std::max(epsilon2, rms(param.data));
  for (size_t e = 0; e < g.size(); ++e)
    param.data[e] = param.data[e] * (1.0 - stepSize * training.weightDecay) -
                    stepSize * u[e] / clip;
}

} // namespace

double optimizerStep(const TrainingConfig &training, int64_t step,
                     const TensorMap<double> &grads, TensorMap<double> &params,
                     TensorMap<double> &state) {
  double sum = 0.0;
  for (const auto &[name, grad] : grads)
    for (double g : grad.data)
      sum += g * g;
  double norm = std::sqrt(sum);
  double scale = 1.0;
  if (training.clipNorm > 0)
    scale = std::min(1.0, training.clipNorm / (norm + 1e-6));
  double lr = learningRate(training, step);
  for (const auto &[name, grad] : grads) {
    std::vector<double> g = grad.data;
    for (double &x : g)
      x *= scale;
    Tensor<double> &param = params.at(name);
    if (training.optimizer == OptimizerKind::AdamW)
      adamw(training, lr, step, name, std::move(g), param, state);
    else
      adafactor(training, lr, step, name, std::move(g), param, state);
  }
  return norm;
}

} // namespace convseq::reference
