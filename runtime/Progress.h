//===- Progress.h - Training progress on stderr -----------------*- C++ -*-===//
//
// On a terminal, one line redrawn in place: a bar, the step, the smoothed
// loss, tokens per second and the time left. Elsewhere (a log file, CI),
// a plain line every few steps, so logs stay readable.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_PROGRESS_H
#define CONVSEQ_RUNTIME_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace convseq::runtime {

class Progress {
public:
  /// Steps `firstDone + 1 .. total` are to come; plain lines every
  /// `logEvery` steps when stderr is not a terminal.
  Progress(int64_t firstDone, int64_t total, int64_t logEvery);

  /// Step `step` finished with `loss` on `tokens` tokens.
  void update(int64_t step, double loss, int64_t tokens);
  /// A message on its own line (the bar is redrawn after it).
  void note(const std::string &message);
  /// Ends the bar's line.
  void finish();
  double tokensPerSecond() const;

private:
  void draw(bool force);

  using Clock = std::chrono::steady_clock;
  int64_t firstDone, total, logEvery;
  int64_t step;
  bool terminal;
  double smoothedLoss = 0;
  int64_t tokens = 0;
  Clock::time_point start, lastDraw;
};

/// "1h02m", "3m12s", "45s".
std::string formatDuration(double seconds);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_PROGRESS_H
