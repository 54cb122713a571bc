export * from "./backend";
export * from "./kd";
export * from "./layers";
export * from "./zoo";
