export async function runTail(_args: string[]): Promise<number> {
  console.error('order-stream tail: not implemented yet (issue 4)');
  return 2;
}
