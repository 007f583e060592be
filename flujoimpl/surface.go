package flujoimpl

// SupportPackageIsVersion4 is referenced by code that flujogen generates
// for version 4 of the contract between generated executors and this
// package: the identifiers of Surface, and the runtime package's. A flujo
// module that drops that contract drops the constant, so stale generated
// code fails go build instead of misbehaving.
const SupportPackageIsVersion4 = true

// Surface lists every identifier of this package that generated code of
// the current version uses. It is the one place that lists them: flujogen's
// tests fail when committed generated code refers to a name not listed
// here. Add or remove a name only together with a new
// SupportPackageIsVersion constant.
var Surface = []string{
	"SupportPackageIsVersion4",
	"AddCache",
	"Branches",
	"CancelFunc",
	"Child",
	"Closer",
	"CompositeTimeout",
	"Configure",
	"CoreOptionsOf",
	"CoreSettings",
	"Deps",
	"Elements",
	"Engine",
	"Env",
	"ExecOptionsOf",
	"Fail",
	"FailedRunError",
	"Fallback",
	"Fan",
	"FanBranch",
	"Frame",
	"FromConfig",
	"GoexitResult",
	"Guard",
	"HeapMB",
	"IsUsageLimit",
	"JSONKey",
	"JoinFailed",
	"KeyPanic",
	"Leaf",
	"LoopExhausted",
	"MapElement",
	"MapSeq",
	"MapWorkers",
	"Methods",
	"MethodsOf",
	"Ms",
	"NewParts",
	"NewRun",
	"NoCase",
	"Own",
	"OwnRecovery",
	"OwnThreshold",
	"Parts",
	"Run",
	"RunMetrics",
	"RunState",
	"Scratch",
	"Services",
	"StartRecorded",
	"Step",
	"Succeed",
	"UnkeyedCache",
	"Validated",
	"WithFallback",
	"WithMetrics",
}
