export * from "./sweep";
