export * from "./history";
export * from "./png";
export * from "./svg";
export * from "./sweep-plot";
