//===- Allocator.h - Heap settings for generated code -----------*- C++ -*-===//
//
// Generated entry points allocate their temporaries with malloc and free
// them before returning. With glibc's defaults, every block over 128 KiB is
// a fresh mmap and every free returns it to the kernel, so each call of a
// large forward pass page-faults and zeroes all of its activations again
// (about a fifth of light-small's forward pass at B=16, S=512).
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_ALLOCATOR_H
#define CONVSEQ_RUNTIME_ALLOCATOR_H

namespace convseq::runtime {

/// Serves every block from the heap (no mmap'd blocks, whatever their
/// size: the logits of a batch and their gradient are over 64 MiB) and
/// never trims it, so repeated calls of an entry point reuse the pages they
/// touched; the heap keeps the peak of a call. Call once at start-up,
/// before the first call of generated code. Returns false if the C library refused a
/// setting (the program still works, with the default behaviour).
bool keepFreedMemory();

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_ALLOCATOR_H
