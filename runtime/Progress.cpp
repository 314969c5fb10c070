//===- Progress.cpp - Training progress on stderr -------------------------===//

#include "runtime/Progress.h"

#include "absl/strings/str_format.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace convseq::runtime {

std::string formatDuration(double seconds) {
  int64_t total = static_cast<int64_t>(seconds + 0.5);
  if (total >= 3600)
    return absl::StrFormat("%dh%02dm", total / 3600, total % 3600 / 60);
  if (total >= 60)
    return absl::StrFormat("%dm%02ds", total / 60, total % 60);
  return absl::StrFormat("%ds", total);
}

Progress::Progress(int64_t firstDone, int64_t total, int64_t logEvery)
    : firstDone(firstDone), total(total),
      logEvery(std::max<int64_t>(1, logEvery)), step(firstDone),
      start(Clock::now()), lastDraw(start) {
  const char *term = std::getenv("TERM");
  terminal = isatty(STDERR_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
}

double Progress::tokensPerSecond() const {
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return seconds > 0 ? tokens / seconds : 0;
}

void Progress::update(int64_t current, double loss, int64_t batchTokens) {
  smoothedLoss = step == firstDone ? loss : 0.95 * smoothedLoss + 0.05 * loss;
  step = current;
  tokens += batchTokens;
  if (terminal)
    draw(current == total);
  else if (current % logEvery == 0 || current == total)
    draw(true);
}

void Progress::draw(bool force) {
  Clock::time_point now = Clock::now();
  if (!force && now - lastDraw < std::chrono::milliseconds(100))
    return;
  lastDraw = now;
  double elapsed = std::chrono::duration<double>(now - start).count();
  int64_t done = step - firstDone;
  double eta = done > 0 ? elapsed / done * (total - step) : 0;
  std::string stats =
      absl::StrFormat("step %d/%d  loss %.4f  %.0f tok/s  elapsed %s  ETA %s",
                      step, total, smoothedLoss, tokensPerSecond(),
                      formatDuration(elapsed), formatDuration(eta));
  if (!terminal) {
    std::fprintf(stderr, "%s\n", stats.c_str());
    return;
  }
  constexpr int kWidth = 30;
  int filled = total > 0 ? static_cast<int>(kWidth * step / total) : kWidth;
  std::fprintf(stderr, "\r[%s%s] %s\033[K", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), stats.c_str());
  std::fflush(stderr);
}

void Progress::note(const std::string &message) {
  if (terminal)
    std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", message.c_str());
  if (terminal)
    draw(true);
}

void Progress::finish() {
  if (terminal && step > firstDone)
    std::fprintf(stderr, "\n");
}

} // namespace convseq::runtime
