// Tests read JSON replies whose shape they assert on; an `any` overload keeps those assertions readable.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}

export {};
