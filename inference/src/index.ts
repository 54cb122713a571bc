export * from "./ring/gemm";
export * from "./ring/conv";
export * from "./transport/types";
export * from "./transport/memory";
