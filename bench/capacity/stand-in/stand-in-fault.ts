/** An error the stand-in answers as a Kinesis error (`__type` and `message`, HTTP 400). */
export class StandInFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}
