export * from "./ring/gemm";
export * from "./ring/conv";
