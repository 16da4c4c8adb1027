/**
 * Email out through an SMTP relay (`--smtp smtp://user:pass@host:port`, or smtps://), with
 * nodemailer; one attempt per call, the reason it failed, never a throw.
 */
import nodemailer from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** a display name for the sender (SNS: the topic's DisplayName) */
  fromName?: string;
}

export interface Mailer {
  send(mail: Mail): Promise<{ ok: true } | { ok: false; error: string; permanent: boolean }>;
  close(): void;
}

export function createMailer(url: string, from: string, trustCa?: string): Mailer {
  const transport = nodemailer.createTransport(url, {
    // AWS gives a mail server a while; a local sink answers at once
    connectionTimeout: 15_000,
    socketTimeout: 30_000,
    ...(trustCa ? { tls: { ca: [trustCa] } } : {}),
  } as never);
  return {
    async send(m) {
      try {
        await transport.sendMail({
          from: m.fromName ? { name: m.fromName, address: from } : from,
          to: m.to,
          subject: m.subject,
          text: m.text,
        });
        return { ok: true };
      } catch (e) {
        const err = e as Error & { responseCode?: number };
        // a 5xx answer refuses this recipient for good (a client-side error to SNS)
        return { ok: false, error: err.message, permanent: (err.responseCode ?? 0) >= 500 };
      }
    },
    close() {
      transport.close();
    },
  };
}
