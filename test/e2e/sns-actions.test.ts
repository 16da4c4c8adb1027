/**
 * The rest of SNS's actions through @aws-sdk/client-sns: topic permissions and data-protection
 * policies, platform applications and endpoints (publishing to one lands in the outbox), SMS
 * settings, opt-outs and the sandbox; then boto3 and the AWS CLI over the same actions. Both stores.
 */
import * as sns from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { awsSns, boto3, snsClient } from '../helpers/sns.js';
import { sdkFailure } from '../helpers/sdk.js';

describe('SNS permissions, platform, SMS and data-protection actions', () => {
  let wharf: Wharf;
  let client: sns.SNSClient;
  const outbox = async (protocol: string) =>
    (
      (await (await fetch(`${wharf.endpoint}/_wharf/sns/outbox?protocol=${protocol}`)).json()) as {
        messages: Record<string, string>[];
      }
    ).messages;

  beforeAll(async () => {
    wharf = await withWharf();
    client = snsClient(wharf.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await wharf?.stop();
  });

  it('adds and removes permission statements in the topic policy', async () => {
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'perm' }));
    await client.send(
      new sns.AddPermissionCommand({
        TopicArn,
        Label: 'others',
        AWSAccountId: ['111111111111'],
        ActionName: ['Publish'],
      }),
    );
    const policy = async () =>
      JSON.parse((await client.send(new sns.GetTopicAttributesCommand({ TopicArn }))).Attributes!.Policy!) as {
        Statement: { Sid: string; Action: string[]; Principal: { AWS: string[] } }[];
      };
    const added = (await policy()).Statement.find((s) => s.Sid === 'others')!;
    expect(added).toMatchObject({ Action: ['SNS:Publish'], Principal: { AWS: ['arn:aws:iam::111111111111:root'] } });
    expect(
      (
        await sdkFailure(
          client.send(
            new sns.AddPermissionCommand({ TopicArn, Label: 'others', AWSAccountId: ['2'], ActionName: ['Publish'] }),
          ),
        )
      ).message,
    ).toBe('Invalid parameter: Statement already exists');
    await client.send(new sns.RemovePermissionCommand({ TopicArn, Label: 'others' }));
    expect((await policy()).Statement.map((s) => s.Sid)).toEqual(['__default_statement_ID']);
  });

  it('stores a data-protection policy', async () => {
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'dpp' }));
    expect(
      (await client.send(new sns.GetDataProtectionPolicyCommand({ ResourceArn: TopicArn }))).DataProtectionPolicy,
    ).toBe('');
    const doc = JSON.stringify({ Name: 'p', Version: '2021-06-01', Statement: [] });
    await client.send(new sns.PutDataProtectionPolicyCommand({ ResourceArn: TopicArn, DataProtectionPolicy: doc }));
    expect(
      (await client.send(new sns.GetDataProtectionPolicyCommand({ ResourceArn: TopicArn }))).DataProtectionPolicy,
    ).toBe(doc);
    expect(
      (
        await sdkFailure(
          client.send(new sns.PutDataProtectionPolicyCommand({ ResourceArn: TopicArn, DataProtectionPolicy: '{' })),
        )
      ).message,
    ).toBe('Invalid parameter: DataProtectionPolicy: failed to parse JSON.');
  });

  it('keeps platform applications and endpoints, and publishes to an endpoint into the outbox', async () => {
    const { PlatformApplicationArn } = await client.send(
      new sns.CreatePlatformApplicationCommand({
        Name: 'app',
        Platform: 'GCM',
        Attributes: { PlatformCredential: 'key' },
      }),
    );
    expect(PlatformApplicationArn).toBe('arn:aws:sns:us-east-1:000000000000:app/GCM/app');
    expect(
      (
        await sdkFailure(
          client.send(new sns.CreatePlatformApplicationCommand({ Name: 'x', Platform: 'GCM', Attributes: {} })),
        )
      ).message,
    ).toBe('Invalid parameter: Attributes Reason: PlatformCredential attribute required');
    const apps = await client.send(new sns.ListPlatformApplicationsCommand({}));
    expect(apps.PlatformApplications!.map((a) => a.PlatformApplicationArn)).toContain(PlatformApplicationArn);
    await client.send(
      new sns.SetPlatformApplicationAttributesCommand({
        PlatformApplicationArn,
        Attributes: { EventEndpointCreated: 'arn:x' },
      }),
    );
    const appAttrs = (await client.send(new sns.GetPlatformApplicationAttributesCommand({ PlatformApplicationArn })))
      .Attributes!;
    expect(appAttrs).toMatchObject({ Enabled: 'true', EventEndpointCreated: 'arn:x' });
    expect(appAttrs.PlatformCredential).toBeUndefined();

    const { EndpointArn } = await client.send(
      new sns.CreatePlatformEndpointCommand({ PlatformApplicationArn, Token: 'device-1', CustomUserData: 'alice' }),
    );
    expect(EndpointArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:endpoint\/GCM\/app\/[0-9a-f-]{36}$/);
    const again = await client.send(
      new sns.CreatePlatformEndpointCommand({ PlatformApplicationArn, Token: 'device-1', CustomUserData: 'alice' }),
    );
    expect(again.EndpointArn).toBe(EndpointArn);
    expect(
      (
        await sdkFailure(
          client.send(
            new sns.CreatePlatformEndpointCommand({ PlatformApplicationArn, Token: 'device-1', CustomUserData: 'bob' }),
          ),
        )
      ).message,
    ).toMatch(
      /^Invalid parameter: Token Reason: Endpoint .* already exists with the same Token, but different attributes\.$/,
    );
    const eps = await client.send(new sns.ListEndpointsByPlatformApplicationCommand({ PlatformApplicationArn }));
    expect(eps.Endpoints).toEqual([
      { EndpointArn, Attributes: { Enabled: 'true', Token: 'device-1', CustomUserData: 'alice' } },
    ]);

    const p = await client.send(
      new sns.PublishCommand({
        TargetArn: EndpointArn,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'hi', GCM: '{"notification":{"title":"hi"}}' }),
      }),
    );
    expect((await outbox('application')).find((m) => m.MessageId === p.MessageId)).toMatchObject({
      EndpointArn,
      Message: '{"notification":{"title":"hi"}}',
    });
    await client.send(new sns.SetEndpointAttributesCommand({ EndpointArn, Attributes: { Enabled: 'false' } }));
    expect((await client.send(new sns.GetEndpointAttributesCommand({ EndpointArn }))).Attributes!.Enabled).toBe(
      'false',
    );
    expect(await sdkFailure(client.send(new sns.PublishCommand({ TargetArn: EndpointArn, Message: 'x' })))).toEqual({
      name: 'EndpointDisabledException',
      message: 'Endpoint is disabled',
      status: 400,
    });
    await client.send(new sns.DeleteEndpointCommand({ EndpointArn }));
    await client.send(new sns.DeleteEndpointCommand({ EndpointArn }));
    expect(await sdkFailure(client.send(new sns.GetEndpointAttributesCommand({ EndpointArn })))).toMatchObject({
      name: 'NotFoundException',
      message: 'Endpoint does not exist',
    });
    await client.send(new sns.DeletePlatformApplicationCommand({ PlatformApplicationArn }));
    expect(
      await sdkFailure(client.send(new sns.GetPlatformApplicationAttributesCommand({ PlatformApplicationArn }))),
    ).toMatchObject({ name: 'NotFoundException', message: 'PlatformApplication does not exist' });
  });

  it('keeps SMS settings and opt-outs', async () => {
    await client.send(
      new sns.SetSMSAttributesCommand({ attributes: { DefaultSMSType: 'Transactional', DefaultSenderID: 'Wharf' } }),
    );
    expect((await client.send(new sns.GetSMSAttributesCommand({ attributes: ['DefaultSMSType'] }))).attributes).toEqual(
      {
        DefaultSMSType: 'Transactional',
      },
    );
    expect(
      (await sdkFailure(client.send(new sns.SetSMSAttributesCommand({ attributes: { DefaultSMSType: 'Loud' } }))))
        .message,
    ).toBe('Invalid parameter: DefaultSMSType');
    const phone = '+15555550123';
    expect((await client.send(new sns.CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone }))).isOptedOut).toBe(
      false,
    );
    expect(
      (
        await fetch(`${wharf.endpoint}/_wharf/sns/sms/opt-out?PhoneNumber=${encodeURIComponent(phone)}`, {
          method: 'POST',
        })
      ).status,
    ).toBe(200);
    expect((await client.send(new sns.CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone }))).isOptedOut).toBe(
      true,
    );
    expect((await client.send(new sns.ListPhoneNumbersOptedOutCommand({}))).phoneNumbers).toEqual([phone]);
    await client.send(new sns.OptInPhoneNumberCommand({ phoneNumber: phone }));
    expect((await client.send(new sns.ListPhoneNumbersOptedOutCommand({}))).phoneNumbers).toEqual([]);
    expect((await client.send(new sns.ListOriginationNumbersCommand({}))).PhoneNumbers).toEqual([]);
  });

  it('verifies sandbox numbers with the one-time password sent to them', async () => {
    const phone = '+15555550199';
    expect((await client.send(new sns.GetSMSSandboxAccountStatusCommand({}))).IsInSandbox).toBe(false);
    await client.send(new sns.CreateSMSSandboxPhoneNumberCommand({ PhoneNumber: phone, LanguageCode: 'en-US' }));
    expect((await client.send(new sns.ListSMSSandboxPhoneNumbersCommand({}))).PhoneNumbers).toEqual([
      { PhoneNumber: phone, Status: 'Pending' },
    ]);
    const sms = (await outbox('sms')).filter((m) => m.PhoneNumber === phone).pop()!;
    const otp = /(\d{6})$/.exec(sms.Message)![1];
    expect(
      await sdkFailure(
        client.send(new sns.VerifySMSSandboxPhoneNumberCommand({ PhoneNumber: phone, OneTimePassword: 'nope' })),
      ),
    ).toMatchObject({ name: 'VerificationException' });
    await client.send(new sns.VerifySMSSandboxPhoneNumberCommand({ PhoneNumber: phone, OneTimePassword: otp }));
    expect((await client.send(new sns.ListSMSSandboxPhoneNumbersCommand({}))).PhoneNumbers).toEqual([
      { PhoneNumber: phone, Status: 'Verified' },
    ]);
    await client.send(new sns.DeleteSMSSandboxPhoneNumberCommand({ PhoneNumber: phone }));
    expect(
      await sdkFailure(client.send(new sns.DeleteSMSSandboxPhoneNumberCommand({ PhoneNumber: phone }))),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('speaks to boto3 and the AWS CLI', async () => {
    const py = await boto3(
      `import boto3,json
c=boto3.client('sns',endpoint_url='${wharf.endpoint}')
t=c.create_topic(Name='boto-actions')['TopicArn']
c.add_permission(TopicArn=t,Label='l',AWSAccountId=['111111111111'],ActionName=['Publish'])
c.remove_permission(TopicArn=t,Label='l')
c.put_data_protection_policy(ResourceArn=t,DataProtectionPolicy='{}')
a=c.create_platform_application(Name='bapp',Platform='GCM',Attributes={'PlatformCredential':'k'})['PlatformApplicationArn']
e=c.create_platform_endpoint(PlatformApplicationArn=a,Token='tok')['EndpointArn']
m=c.publish(TargetArn=e,Message='push')['MessageId']
c.set_sms_attributes(attributes={'DefaultSMSType':'Promotional'})
print(json.dumps([c.get_data_protection_policy(ResourceArn=t)['DataProtectionPolicy'],
  len(c.list_endpoints_by_platform_application(PlatformApplicationArn=a)['Endpoints']),
  c.get_sms_attributes()['attributes']['DefaultSMSType'],
  c.check_if_phone_number_is_opted_out(phoneNumber='+15555550100')['isOptedOut'],
  c.get_sms_sandbox_account_status()['IsInSandbox'], bool(m)]))
c.delete_endpoint(EndpointArn=e)
c.delete_platform_application(PlatformApplicationArn=a)`,
    );
    expect(py.stderr).toBe('');
    expect(JSON.parse(py.stdout)).toEqual(['{}', 1, 'Promotional', false, false, true]);
    const cli = (...args: string[]) => awsSns(wharf.endpoint, ...args);
    expect((await cli('list-platform-applications')).PlatformApplications).toEqual([]);
    expect((await cli('get-sms-attributes')).attributes.DefaultSMSType).toBe('Promotional');
    expect((await cli('list-phone-numbers-opted-out')).phoneNumbers).toEqual([]);
    expect((await cli('list-sms-sandbox-phone-numbers')).PhoneNumbers).toEqual([]);
    expect((await cli('list-origination-numbers')).PhoneNumbers).toEqual([]);
  });
});
