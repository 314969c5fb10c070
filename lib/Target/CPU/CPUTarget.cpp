//===- CPUTarget.cpp - LLVM IR, assembly and objects for CPUs -------------===//

#include "lib/Target/CPU/CPUTarget.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Analysis/CGSCCPassManager.h"
#include "llvm/Analysis/LoopAnalysisManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// A TargetMachine for this machine's triple and `cpu` ("native": the host
/// CPU with its exact features).
FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(ModuleOp module, StringRef cpu,
                    llvm::CodeGenOptLevel level) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError("no LLVM target for ") << triple.str() << ": "
                                                   << error;
  std::string cpuName = cpu.str();
  llvm::SubtargetFeatures features;
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    for (const auto &[feature, enabled] : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature, enabled);
  }
  // Check the name on a subtarget of the generic CPU: one made for an
  // unknown CPU prints LLVM's own warnings before ours.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpuName))
    return module.emitError("unknown CPU '") << cpuName << "' for "
                                             << triple.str();
  llvm::TargetOptions options;
  // A multiply feeding an add becomes one FMA (one rounding instead of
  // two), as clang's -ffp-contract=fast does: the vectorized convolutions
  // and attention products are written as separate mulf and addf.
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features.getString(), options, llvm::Reloc::PIC_,
      std::nullopt, level));
  if (!machine)
    return module.emitError("cannot create a target machine for CPU '")
           << cpuName << "'";
  return machine;
}

/// The standard -O3 pipeline, tuned for `machine`.
void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(module, modules);
}

/// Splits every basic block longer than `limit` instructions. Instruction
/// selection builds one DAG per block, in time that grows faster than the
/// block: the host code of light-small's GPU entry points has blocks of up
/// to 200k instructions (one launch after another), which took 125 s to
/// select at -O0, and 17 s once split. Only for code LLVM does not
/// optimize, which would merge the blocks again.
void splitLongBlocks(llvm::Module &module, unsigned limit) {
  for (llvm::Function &function : module) {
    SmallVector<llvm::BasicBlock *> worklist;
    for (llvm::BasicBlock &block : function)
      worklist.push_back(&block);
    while (!worklist.empty()) {
      llvm::BasicBlock *block = worklist.pop_back_val();
      if (block->size() <= limit)
        continue;
      auto at = block->getFirstNonPHIIt();
      for (unsigned i = 0; i < limit && at != block->end(); ++i)
        ++at;
      if (at == block->end() || at->isTerminator())
        continue;
      worklist.push_back(block->splitBasicBlock(at));
    }
  }
}

} // namespace

LogicalResult mlir::convseq::emitCPUCode(ModuleOp module,
                                         const CPUTargetOptions &options,
                                         CPUOutputKind kind,
                                         llvm::raw_pwrite_stream &os,
                                         TimingScope &timing) {
  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(module, options.cpu,
                          options.optimize ? llvm::CodeGenOptLevel::Aggressive
                                           : llvm::CodeGenOptLevel::None);
  if (failed(machine))
    return failure();

  llvm::LLVMContext context;
  TimingScope translation = timing.nest("Translation to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return module.emitError("translation to LLVM IR failed");
  translation.stop();
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  // Optimized code keeps its blocks: it is model code whose unrolled loop
  // bodies instruction scheduling sees whole.
  TimingScope optimization = timing.nest("LLVM IR optimization");
  if (options.optimize)
    optimize(*llvmModule, **machine);
  else
    splitLongBlocks(*llvmModule, /*limit=*/2000);
  optimization.stop();

  if (kind == CPUOutputKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return success();
  }
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, os, nullptr,
                                      kind == CPUOutputKind::Object
                                          ? llvm::CodeGenFileType::ObjectFile
                                          : llvm::CodeGenFileType::AssemblyFile))
    return module.emitError("the target cannot emit this file type");
  TimingScope emission = timing.nest("LLVM code generation");
  codegen.run(*llvmModule);
  return success();
}

bool mlir::convseq::cpuHasAVX512(StringRef cpu) {
  if (cpu == "native")
    return llvm::sys::getHostCPUFeatures().lookup("avx512f");
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return false;
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu))
    return false;
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(triple, cpu, ""));
  return info && info->checkFeatures("+avx512f");
}
