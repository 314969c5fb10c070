//===- convseqc.cpp - The convseq compiler driver -------------------------===//
//
// Reads a model definition and runs the compiler up to the stage asked for
// with --emit. Every stage is a named pipeline from lib/Pipelines, the same
// ones convseq-opt exposes.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"
#include "lib/Frontend/ModelBuilder.h"
#include "lib/Frontend/ModelConfig.h"
#include "lib/Frontend/RuntimeSettings.h"
#include "lib/InitAll.h"
#include "lib/Pipelines/Pipelines.h"
#include "lib/Target/CPU/CPUTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The stages of the compiler, in pipeline order.
enum class EmitStage {
  ConvSeq,
  Primitives,
  Linalg,
  GPU,
  LLVM,
  LLVMIR,
  Asm,
  Obj,
  Exe
};

enum class Target { CPU, CUDA, GPULoopsOnCPU };

llvm::cl::OptionCategory category("convseqc options");

/// What --mlir-timing reports on: every pipeline's passes and LLVM's code
/// generation, nested under one root (a no-op without the flag).
TimingScope compileTiming;

llvm::cl::opt<std::string>
    inputFilename(llvm::cl::Positional,
                  llvm::cl::desc("<model.yaml | input.mlir>"),
                  llvm::cl::Required, llvm::cl::cat(category));

llvm::cl::opt<std::string> outputFilename("o", llvm::cl::desc("Output file"),
                                          llvm::cl::value_desc("filename"),
                                          llvm::cl::init("-"),
                                          llvm::cl::cat(category));

llvm::cl::opt<EmitStage> emitStage(
    "emit",
    llvm::cl::desc("The stage to stop at and print (default: exe for a "
                   "model definition and an -o not ending in .mlir, else "
                   "convseq)"),
    llvm::cl::init(EmitStage::ConvSeq),
    llvm::cl::values(
        clEnumValN(EmitStage::ConvSeq, "convseq",
                   "convseq IR as the front end builds it: block ops for the "
                   "teacher-forced passes, primitives in the decoder step"),
        clEnumValN(EmitStage::Primitives, "primitives",
                   "convseq IR with every block op decomposed into primitives "
                   "(pipeline convseq-to-primitives)"),
        clEnumValN(EmitStage::Linalg, "linalg",
                   "fused linalg on tensors (pipeline convseq-to-linalg)"),
        clEnumValN(EmitStage::GPU, "gpu",
                   "--target=cuda: kernels and their launches (pipeline "
                   "convseq-linalg-to-gpu)"),
        clEnumValN(EmitStage::LLVM, "llvm",
                   "the LLVM dialect (pipeline convseq-to-llvm-cpu, or "
                   "convseq-to-llvm-cuda with the cubin embedded)"),
        clEnumValN(EmitStage::LLVMIR, "llvmir",
                   "optimized LLVM IR (for --target=cuda, the host code, "
                   "not optimized)"),
        clEnumValN(EmitStage::Asm, "asm",
                   "assembly for the target CPU; for --target=cuda, the PTX "
                   "of the kernels"),
        clEnumValN(EmitStage::Obj, "obj",
                   "an object file for the target CPU (for --target=cuda, "
                   "host code with the cubin embedded); link it with the "
                   "runtime, call the entry points through the --header"),
        clEnumValN(EmitStage::Exe, "exe",
                   "an executable: the object linked with the runtime, with "
                   "the train, eval, predict and info commands "
                   "(docs/runtime.md)")),
    llvm::cl::cat(category));

llvm::cl::opt<Target> target(
    "target", llvm::cl::desc("The hardware to compile for"),
    llvm::cl::init(Target::CPU),
    llvm::cl::values(clEnumValN(Target::CPU, "cpu", "this machine's CPU"),
                     clEnumValN(Target::CUDA, "cuda",
                                "NVIDIA GPUs: kernels assembled by ptxas for "
                                "--gpu-arch, host code for this CPU "
                                "(docs/gpu.md)"),
                     clEnumValN(Target::GPULoopsOnCPU, "gpu-loops-on-cpu",
                                "a test target: the kernels --target=cuda "
                                "generates, before their mapping onto "
                                "blocks and threads, run as sequential "
                                "loops on this CPU (docs/gpu.md)")),
    llvm::cl::cat(category));

llvm::cl::opt<std::string>
    gpuArch("gpu-arch",
            llvm::cl::desc("The NVIDIA architecture for --target=cuda: sm_80 "
                           "(A100) or sm_90 (H100)"),
            llvm::cl::init("sm_90"), llvm::cl::cat(category));

llvm::cl::opt<int64_t> gpuBlockSize(
    "gpu-block-size",
    llvm::cl::desc("Threads per block of the kernels for --target=cuda"),
    llvm::cl::init(256), llvm::cl::cat(category));

llvm::cl::opt<std::string> cpu(
    "cpu",
    llvm::cl::desc("The LLVM CPU name to tune and select instructions for "
                   "(default: native, this machine's CPU and features)"),
    llvm::cl::init("native"), llvm::cl::cat(category));

llvm::cl::opt<int64_t> cpuThreads(
    "cpu-threads",
    llvm::cl::desc("The threads the CPU code will run on, which its parallel "
                   "blocks are balanced for (default 0: this machine's "
                   "hardware threads, as many as the OpenMP runtime starts "
                   "without OMP_NUM_THREADS)"),
    llvm::cl::init(0), llvm::cl::cat(category));

llvm::cl::opt<std::string> cpuPipelineOptions(
    "cpu-pipeline-options",
    llvm::cl::desc("Options of the CPU pipeline as convseq-opt's "
                   "--convseq-to-llvm-cpu takes them (docs/pipelines.md), "
                   "e.g. \"tile-attention=false parallel=false\""),
    llvm::cl::init(""), llvm::cl::cat(category));

llvm::cl::opt<std::string> headerFilename(
    "header",
    llvm::cl::desc("Also write the C header describing the entry points' "
                   "arguments to this file"),
    llvm::cl::value_desc("filename"), llvm::cl::cat(category));

llvm::cl::list<std::string> entryPoints(
    "entry-points",
    llvm::cl::desc("Compile only these entry points of a model (default: "
                   "all; for an executable, those its runtime calls): "
                   "encoder, decoder_init, decoder_step, forward, "
                   "forward_train, train_step, train_grad, train_apply"),
    llvm::cl::CommaSeparated, llvm::cl::cat(category));

llvm::cl::opt<bool> accumulation(
    "accumulation",
    llvm::cl::desc("Also compile train_grad and train_apply, the two halves "
                   "of train_step that gradient accumulation (`train "
                   "--accumulate=k`) runs"),
    llvm::cl::init(false), llvm::cl::cat(category));

llvm::cl::opt<std::string> runtimeLinkFile(
    "runtime-link-file",
    llvm::cl::desc("How to link an executable: the compiler driver, include "
                   "directory and libraries of the runtime (written by the "
                   "build)"),
    llvm::cl::init(CONVSEQ_RUNTIME_LINK_FILE), llvm::cl::Hidden,
    llvm::cl::cat(category));

llvm::cl::opt<bool> printParams(
    "print-params",
    llvm::cl::desc("List every parameter with its shape and size, and the "
                   "total, instead of compiling"),
    llvm::cl::init(false), llvm::cl::cat(category));

constexpr const char *kOverview = R"(convseq model compiler

Reads a model definition (docs/model-format.md) and compiles it. A file
ending in .mlir is read as IR instead: functions on tensors in the convseq,
linalg, tensor, arith and math dialects, compiled by the same pipelines
(how the matmul benchmark and the lit tests compile kernels). The entry
points it builds (docs/entry-points.md) are encoder, decoder_init,
decoder_step, forward, forward_train, train_step (forward, backward and
optimizer update in one, updating parameters and optimizer state in place)
and its two halves for gradient accumulation, train_grad and train_apply;
every entry point takes the model's parameters first, named as
--print-params lists them. --mlir-timing reports where the compile time
goes, pass by pass.

Examples:
  convseqc models/light-small.yaml -o light-small   an executable; then
                                                    ./light-small --help
  convseqc models/light-small.yaml                  print convseq IR
  convseqc models/light-small.yaml --emit=primitives -o light.mlir
  convseqc models/light-small.yaml --emit=obj -o light.o --header light.h
  convseqc models/light-base.yaml --print-params
  convseqc kernel.mlir --emit=obj -o kernel.o --header kernel.h
  convseqc models/light-small.yaml --target=cuda --gpu-arch=sm_80 -o light-gpu
  convseqc models/light-small.yaml --target=cuda --emit=asm -o light.ptx
)";

void printParameterTable(const ModelConfig &config, llvm::raw_ostream &os) {
  std::vector<ParameterInfo> params = collectParameters(config);
  size_t width = 0;
  for (const ParameterInfo &param : params)
    width = std::max(width, param.name.size());
  int64_t total = 0;
  for (const ParameterInfo &param : params) {
    std::string shape;
    llvm::raw_string_ostream shapeOs(shape);
    shapeOs << "[";
    llvm::interleave(param.shape, shapeOs, "x");
    shapeOs << "]";
    os << llvm::left_justify(param.name, width) << "  "
       << llvm::left_justify(shape, 12) << "  "
       << llvm::format_decimal(param.numElements(), 12) << "\n";
    total += param.numElements();
  }
  os << "total " << params.size() << " parameters, " << total << " elements\n";
}

/// The entry points the runtime of an executable calls (docs/runtime.md):
/// what it compiles unless --entry-points says otherwise.
const char *const kExecutableEntryPoints[] = {"train_step", "encoder",
                                              "decoder_init", "decoder_step"};

/// The training functions convseq-generate-train-step builds from
/// forward_train, by entry point name and by the name its
/// `entry_points` setting uses.
const std::pair<const char *, const char *> kTrainingEntryPoints[] = {
    {"train_step", "step"}, {"train_grad", "grad"}, {"train_apply", "apply"}};

/// Keeps the entry points --entry-points asks for (for an executable, by
/// default, those its runtime calls; all otherwise). The training functions
/// are built from forward_train, which stays, private, until then.
LogicalResult selectEntryPoints(ModuleOp module, EmitStage stage) {
  if (entryPoints.empty() && stage == EmitStage::Exe)
    for (const char *name : kExecutableEntryPoints)
      entryPoints.push_back(name);
  if (accumulation)
    for (const char *name : {"train_grad", "train_apply"})
      if (!entryPoints.empty() && !llvm::is_contained(entryPoints, name))
        entryPoints.push_back(name);
  SmallVector<std::string> available;
  for (auto func : module.getOps<func::FuncOp>()) {
    available.push_back(func.getSymName().str());
    if (func->hasAttr(kTrainingAttrName))
      for (auto [name, kind] : kTrainingEntryPoints)
        available.push_back(name);
  }
  for (const std::string &name : entryPoints)
    if (!llvm::is_contained(available, name)) {
      llvm::WithColor::error(llvm::errs(), "convseqc")
          << "--entry-points: unknown entry point '" << name
          << "'; expected some of " << llvm::join(available, ", ") << "\n";
      return failure();
    }
  auto wanted = [&](StringRef name) {
    return entryPoints.empty() || llvm::is_contained(entryPoints, name);
  };
  SmallVector<Attribute> trainingKinds;
  for (auto [name, kind] : kTrainingEntryPoints)
    if (wanted(name))
      trainingKinds.push_back(StringAttr::get(module.getContext(), kind));
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
    auto training = func->getAttrOfType<DictionaryAttr>(kTrainingAttrName);
    if (training && !trainingKinds.empty()) {
      NamedAttrList settings(training);
      settings.set("entry_points",
                   ArrayAttr::get(module.getContext(), trainingKinds));
      func->setAttr(kTrainingAttrName,
                    settings.getDictionary(module.getContext()));
    } else if (training) {
      func->removeAttr(kTrainingAttrName);
    }
    if (wanted(func.getSymName()))
      continue;
    if (training && !trainingKinds.empty())
      func.setPrivate();
    else
      func.erase();
  }
  return success();
}

/// Sets the GPU pipeline's options from the command line; `stage` asm
/// embeds PTX instead of a cubin, to print it.
void setGPUOptions(GPUPipelineOptions &options, EmitStage stage) {
  options.chip = gpuArch;
  options.blockSize = gpuBlockSize;
  if (stage == EmitStage::Asm)
    options.format = "isa";
}

/// Checks the options of --target before minutes of compiling.
LogicalResult checkTargetOptions() {
  auto error = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "convseqc") << message << "\n";
    return failure();
  };
  bool cuda = target == Target::CUDA;
  bool gpuKernels = cuda || target == Target::GPULoopsOnCPU;
  if (!cuda && gpuArch.getNumOccurrences())
    return error("--gpu-arch needs --target=cuda");
  if (!gpuKernels && gpuBlockSize.getNumOccurrences())
    return error("--gpu-block-size needs --target=cuda or "
                 "--target=gpu-loops-on-cpu");
  if (cpuThreads < 0)
    return error("--cpu-threads: " + Twine(cpuThreads.getValue()) +
                 " is negative; expected a thread count, or 0 for this "
                 "machine's");
  if (cuda && gpuArch != "sm_80" && gpuArch != "sm_90")
    return error("--gpu-arch: unknown architecture '" + gpuArch +
                 "'; expected sm_80 or sm_90");
  if (gpuKernels &&
      (gpuBlockSize < 32 || gpuBlockSize > 1024 || gpuBlockSize % 32 != 0))
    return error("--gpu-block-size: " + Twine(gpuBlockSize.getValue()) +
                 " is not a multiple of 32 from 32 to 1024");
  if (gpuKernels && !cpuPipelineOptions.empty())
    return error("--cpu-pipeline-options needs --target=cpu");
  std::string message;
  llvm::raw_string_ostream os(message);
  CPUPipelineOptions parsed;
  if (failed(parsed.parseFromString(cpuPipelineOptions, os)))
    return error("--cpu-pipeline-options: cannot parse \"" +
                 cpuPipelineOptions + "\"" +
                 (message.empty() ? "" : ": " + StringRef(message).trim()));
  if (!cuda && emitStage == EmitStage::GPU)
    return error("--emit=gpu needs --target=cuda");
  return success();
}

/// Runs the pipelines from `from` (exclusive) up to `stage` on `module`.
/// Every stage after primitives starts from primitives.
LogicalResult runPipelines(ModuleOp module, EmitStage from, EmitStage stage) {
  if (stage <= from)
    return success();
  PassManager pm(module->getName());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  // Each run in a scope of its own: the timing manager tells timers apart
  // by address, and a pass of a later pass manager can sit where a freed
  // one was (which merged "Native code" into a "Canonicalizer").
  TimingScope timing = compileTiming.nest(from < EmitStage::Primitives
                                              ? "Pipelines to primitives"
                                              : "Pipelines from primitives");
  pm.enableTiming(timing);
  CPUPipelineOptions options;
  options.threads = cpuThreads;
  // Matmul register tiles of 6 x 2 vectors: 6 x 32 floats in AVX-512's
  // 32 registers, 6 x 16 in AVX2's 16.
  if (target == Target::CPU && cpuHasAVX512(cpu))
    options.registerN = 32;
  // Checked by checkTargetOptions.
  (void)options.parseFromString(cpuPipelineOptions);
  GPUPipelineOptions gpu;
  setGPUOptions(gpu, stage);
  if (stage == EmitStage::Primitives) {
    buildPrimitivesPipeline(pm, PrimitivesPipelineOptions());
  } else if (stage == EmitStage::Linalg) {
    if (target == Target::CPU)
      buildLinalgPipeline(pm, options);
    else
      buildLinalgForGPUPipeline(pm, gpu);
  } else if (target == Target::CUDA) {
    buildLinalgForGPUPipeline(pm, gpu);
    buildLinalgToGPUPipeline(pm, gpu);
    if (stage > EmitStage::GPU)
      buildGPUToLLVMPipeline(pm, gpu);
  } else if (target == Target::GPULoopsOnCPU) {
    buildGPULoopsOnCPUPipeline(pm, gpu);
  } else {
    buildCPUPipeline(pm, options);
  }
  return pm.run(module);
}

/// Writes the PTX of every kernel module of `module` (compiled with
/// format=isa) to `os`.
LogicalResult writeKernelAssembly(ModuleOp module, llvm::raw_ostream &os) {
  bool any = false;
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute object : binary.getObjects()) {
      os << "// gpu.binary @" << binary.getSymName() << "\n"
         << cast<gpu::ObjectAttr>(object).getObject().getValue() << "\n";
      any = true;
    }
  if (!any)
    return module.emitError("no GPU kernels to print");
  return success();
}

/// Writes `module` at `stage` to `os`: MLIR text up to the LLVM dialect,
/// then what the CPU target emits.
LogicalResult writeStage(ModuleOp module, EmitStage stage,
                         llvm::raw_pwrite_stream &os) {
  CPUTargetOptions options;
  options.cpu = cpu;
  options.optimize = target != Target::CUDA;
  if (stage == EmitStage::Asm && target == Target::CUDA)
    return writeKernelAssembly(module, os);
  TimingScope timing = compileTiming.nest("Native code");
  switch (stage) {
  case EmitStage::LLVMIR:
    return emitCPUCode(module, options, CPUOutputKind::LLVMIR, os, timing);
  case EmitStage::Asm:
    return emitCPUCode(module, options, CPUOutputKind::Assembly, os, timing);
  case EmitStage::Obj:
    return emitCPUCode(module, options, CPUOutputKind::Object, os, timing);
  default:
    module->print(os);
    return success();
  }
}

/// Opens `filename` for writing, or reports why it cannot and returns null.
std::unique_ptr<llvm::ToolOutputFile> openOutput(StringRef filename) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> file =
      openOutputFile(filename, &error);
  if (!file)
    llvm::WithColor::error(llvm::errs(), "convseqc") << error << "\n";
  return file;
}

LogicalResult writeHeader(ModuleOp module, StringRef modelName) {
  std::unique_ptr<llvm::ToolOutputFile> header = openOutput(headerFilename);
  if (!header)
    return failure();
  if (failed(emitCPUHeader(module, modelName, header->os())))
    return failure();
  header->keep();
  return success();
}

/// What an executable embeds besides the generated code.
struct ExecutableInputs {
  /// The resolved settings (lib/Frontend/RuntimeSettings.h).
  std::string settings;
  /// The text of the model definition.
  std::string definition;
};

/// The stage to stop at: --emit, or by default an executable when a model
/// definition is compiled to a file (-o) not ending in .mlir, and convseq
/// IR otherwise.
EmitStage effectiveStage() {
  if (emitStage.getNumOccurrences() || outputFilename == "-" ||
      StringRef(outputFilename).ends_with(".mlir") ||
      StringRef(inputFilename).ends_with(".mlir"))
    return emitStage;
  return EmitStage::Exe;
}

/// `text` as a C string literal. Octal escapes are always three digits, so
/// a following digit never extends them.
std::string cStringLiteral(StringRef text) {
  std::string literal = "\"";
  for (unsigned char c : text) {
    if (c == '\\' || c == '"') {
      literal += '\\';
      literal += c;
    } else if (c == '\n') {
      literal += "\\n\"\n  \"";
    } else if (c < 0x20 || c >= 0x7f) {
      literal += llvm::formatv("\\{0:o3}", unsigned(c)).str();
    } else {
      literal += c;
    }
  }
  return literal + "\"";
}

/// The C main of an executable: the table of `module`'s entry points,
/// taken from the generated header, and the embedded settings.
void writeExecutableMain(ModuleOp module, StringRef name,
                         const ExecutableInputs &inputs, StringRef headerPath,
                         llvm::raw_ostream &os) {
  os << "/* Generated by convseqc for model '" << name << "'. */\n"
     << "#include \"" << headerPath << "\"\n"
     << "#include \"runtime/Runtime.h\"\n\n"
     << "static const convseq_entry_point entries[] = {\n";
  int count = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic())
      continue;
    std::string symbol = (kPackedEntryPrefix + func.getSymName()).str();
    os << "  {\"" << func.getSymName() << "\", " << symbol << ", " << symbol
       << "_args, (int)(sizeof(" << symbol << "_args) / sizeof(" << symbol
       << "_args[0]))},\n";
    ++count;
  }
  os << "};\n\nstatic const char settings[] =\n  "
     << cStringLiteral(inputs.settings) << ";\n\n"
     << "static const char definition[] =\n  "
     << cStringLiteral(inputs.definition) << ";\n\n"
     << "int main(int argc, char **argv) {\n"
     << "  static const convseq_model model = {" << cStringLiteral(name)
     << ", entries, " << count << ", settings, definition};\n"
     << "  return convseq_main(argc, argv, &model);\n}\n";
}

/// How the build says to link against the runtime: the compiler driver
/// (`cc=`), the directory Runtime.h is found under (`include=`) and the
/// libraries, in order (`link=`).
struct RuntimeLink {
  std::string compiler;
  std::string includeDir;
  std::vector<std::string> libraries;
};

FailureOr<RuntimeLink> readRuntimeLink() {
  auto error = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "convseqc")
        << runtimeLinkFile << ": " << message << "\n";
    return failure();
  };
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(runtimeLinkFile);
  if (!file)
    return error("cannot read the runtime link settings: " +
                 file.getError().message() + " (is convseq built?)");
  RuntimeLink link;
  SmallVector<StringRef> lines;
  (*file)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (StringRef line : lines) {
    auto [key, value] = line.split('=');
    if (key == "cc")
      link.compiler = value.str();
    else if (key == "include")
      link.includeDir = value.str();
    else if (key == "link")
      link.libraries.push_back(value.str());
    else
      return error("unknown line '" + line + "'");
  }
  if (link.compiler.empty())
    return error("no compiler driver (cc=)");
  return link;
}

/// Compiles `module`, at the primitives stage, to an object and links it
/// with its C main and the runtime into the executable -o names. The
/// intermediate files live in a temporary directory that is removed.
int buildExecutable(ModuleOp module, StringRef name,
                    const ExecutableInputs &inputs) {
  FailureOr<RuntimeLink> link = readRuntimeLink();
  if (failed(link))
    return 1;
  SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("convseqc", dir)) {
    llvm::WithColor::error(llvm::errs(), "convseqc")
        << "cannot create a temporary directory: " << ec.message() << "\n";
    return 1;
  }
  llvm::scope_exit removeDir([&] { llvm::sys::fs::remove_directories(dir); });
  auto path = [&](StringRef file) {
    SmallString<128> result(dir);
    llvm::sys::path::append(result, file);
    return result.str().str();
  };
  std::string header = path("model.h"), object = path("model.o"),
              main = path("main.c");

  auto writeFile = [&](StringRef file,
                       llvm::function_ref<LogicalResult(
                           llvm::raw_pwrite_stream &)> write) {
    std::unique_ptr<llvm::ToolOutputFile> out = openOutput(file);
    if (!out || failed(write(out->os())))
      return failure();
    out->keep();
    return success();
  };
  if (failed(writeFile(header,
                       [&](llvm::raw_pwrite_stream &os) {
                         return emitCPUHeader(module, name, os);
                       })) ||
      failed(writeFile(main, [&](llvm::raw_pwrite_stream &os) {
        writeExecutableMain(module, name, inputs, header, os);
        return success();
      })))
    return 1;
  if (failed(runPipelines(module, EmitStage::Primitives, EmitStage::Obj)) ||
      failed(writeFile(object, [&](llvm::raw_pwrite_stream &os) {
        return writeStage(module, EmitStage::Obj, os);
      })))
    return 1;

  SmallVector<std::string> args = {link->compiler, "-O2",
                                   "-I" + link->includeDir,
                                   "-x", "c", main, "-x", "none", object};
  llvm::append_range(args, link->libraries);
  args.append({"-o", outputFilename});
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int status = llvm::sys::ExecuteAndWait(link->compiler, argRefs,
                                         std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    llvm::WithColor::error(llvm::errs(), "convseqc")
        << "linking " << outputFilename << " failed"
        << (message.empty() ? "" : ": " + message) << " (command: "
        << llvm::join(args, " ") << ")\n";
    return 1;
  }
  return 0;
}

/// Compiles `module` (built or parsed) to the --emit stage, with the header
/// if asked for, and writes it. The header describes the entry points on
/// tensors after the training step is built (convseq-to-primitives). An
/// executable needs `exe`, what a model definition adds.
int compileModule(ModuleOp module, StringRef name,
                  const ExecutableInputs *exe) {
  EmitStage stage = effectiveStage();
  if (stage == EmitStage::Exe && !exe) {
    llvm::WithColor::error(llvm::errs(), "convseqc")
        << "an executable needs a model definition (.yaml), not IR; use "
           "--emit=obj\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output;
  if (stage != EmitStage::Exe && !(output = openOutput(outputFilename)))
    return 1;
  if (stage == EmitStage::Exe) {
    // Fail now rather than after minutes of compiling.
    StringRef dir = llvm::sys::path::parent_path(outputFilename);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir)) {
      llvm::WithColor::error(llvm::errs(), "convseqc")
          << "cannot write " << outputFilename << ": no directory '" << dir
          << "'\n";
      return 1;
    }
  }
  if (failed(selectEntryPoints(module, stage)))
    return 1;
  EmitStage headerStage = std::min(stage, EmitStage::Primitives);
  if (failed(runPipelines(module, EmitStage::ConvSeq, headerStage)))
    return 1;
  if (!headerFilename.empty() && failed(writeHeader(module, name)))
    return 1;
  if (stage == EmitStage::Exe)
    return buildExecutable(module, name, *exe);
  if (failed(runPipelines(module, headerStage, stage)) ||
      failed(writeStage(module, stage, output->os())))
    return 1;
  output->keep();
  return 0;
}

std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  registerAllConvSeqDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

/// Compiles an IR input; the module's name (or the file's stem) names the
/// header's guard.
int compileIR(llvm::SourceMgr &sourceMgr) {
  std::unique_ptr<MLIRContext> context = makeContext();
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, context.get());
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, context.get());
  if (!module)
    return 1;
  std::string name = module->getName()
                         ? module->getName()->str()
                         : llvm::sys::path::stem(inputFilename).str();
  return compileModule(*module, name, /*exe=*/nullptr);
}

int compile() {
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &error);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), "convseqc") << error << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());

  if (failed(checkTargetOptions()))
    return 1;
  if (StringRef(inputFilename).ends_with(".mlir"))
    return compileIR(sourceMgr);
  FailureOr<ModelConfig> config = parseModelConfig(sourceMgr);
  if (failed(config) || failed(checkFrozenPatterns(*config, sourceMgr)))
    return 1;

  if (printParams) {
    std::unique_ptr<llvm::ToolOutputFile> output = openOutput(outputFilename);
    if (!output)
      return 1;
    printParameterTable(*config, output->os());
    output->keep();
    return 0;
  }

  std::unique_ptr<MLIRContext> context = makeContext();
  OwningOpRef<ModuleOp> module = buildModel(context.get(), *config);
  if (!module) {
    llvm::WithColor::error(llvm::errs(), "convseqc")
        << "internal error: the IR built for '" << inputFilename
        << "' does not verify; please report this with the model file\n";
    return 2;
  }
  ExecutableInputs exe;
  exe.settings = writeRuntimeSettings(
      *config, llvm::sys::path::parent_path(inputFilename));
  // Where the runtime runs the entry points (runtime/Model.cpp).
  exe.settings += target == Target::CUDA
                      ? "target=cuda\ngpu_arch=" + gpuArch + "\n"
                      : std::string("target=cpu\n");
  exe.definition = sourceMgr.getMemoryBuffer(1)->getBuffer().str();
  return compileModule(*module, config->name, &exe);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  registerMLIRContextCLOptions();
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(argc, argv, kOverview);
  // The report prints when `timingManager` goes out of scope. The root
  // scope is stopped and emptied first: the global would otherwise stop its
  // timer again at exit, in the destroyed manager.
  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  compileTiming = timingManager.getRootScope();
  int status = compile();
  compileTiming = TimingScope();
  return status;
}
