/** What an SDK v3 call that must fail threw: its error name, message and HTTP status. */
export async function sdkFailure(p: Promise<unknown>): Promise<{ name: string; message: string; status: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode ?? 0 };
  }
  throw new Error('expected an error');
}
