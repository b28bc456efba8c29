export async function runProduce(_args: string[]): Promise<number> {
  console.error('order-stream produce: not implemented yet (issue 4)');
  return 2;
}
