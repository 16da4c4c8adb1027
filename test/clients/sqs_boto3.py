#!/usr/bin/python3
"""Drives every SQS action botocore 1.29 knows against a Wharf endpoint, on a standard and a FIFO queue.

Run with Debian's interpreter (python3-boto3 1.26 / botocore 1.29 speak the AWS Query protocol for SQS):

    /usr/bin/python3 test/clients/sqs_boto3.py http://127.0.0.1:4566 [region]

Asserts every result; prints one JSON summary line on stdout. Exit status 0 on success, 1 on the first failed
check (the summary then has "ok": false and the reason).

botocore 1.29 predates the message move task APIs (StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask): the client has no methods for them, which the summary notes.
"""
import base64
import hashlib
import json
import struct
import sys
import time
import traceback

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
REGION = sys.argv[2] if len(sys.argv) > 2 else 'us-east-1'
ACCOUNT = '000000000000'  # a non-numeric access key id lands in the default account

sqs = boto3.client(
    'sqs',
    endpoint_url=ENDPOINT,
    region_name=REGION,
    aws_access_key_id='AKIDBOTO3EXAMPLE',
    aws_secret_access_key='boto3-secret',
    config=Config(retries={'total_max_attempts': 1, 'mode': 'standard'}, connect_timeout=5, read_timeout=30),
)

called = set()
checks = 0


def call(op, **kwargs):
    called.add(op)
    method = getattr(sqs, botocore.xform_name(op))
    return method(**kwargs)


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    check(got == want, f'{what}: expected {want!r}, got {got!r}')


def expect_error(code, op, **kwargs):
    try:
        call(op, **kwargs)
    except ClientError as e:
        eq(e.response['Error']['Code'], code, f'{op} error code')
        check(e.response['ResponseMetadata'].get('RequestId'), f'{op} error has a request id')
        return e
    raise AssertionError(f'{op} should have failed with {code}')


def lp(b):
    return struct.pack('>I', len(b)) + b


def md5_of_attributes(attrs):
    """The digest AWS SDKs check: per attribute in name order, name, type, transport byte, value."""
    buf = b''
    for name in sorted(attrs, key=lambda n: n.encode('utf-8')):
        v = attrs[name]
        buf += lp(name.encode('utf-8')) + lp(v['DataType'].encode('utf-8'))
        if 'StringValue' in v:
            buf += b'\x01' + lp(v['StringValue'].encode('utf-8'))
        else:
            buf += b'\x02' + lp(bytes(v['BinaryValue']))
    return hashlib.md5(buf).hexdigest()


def md5(s):
    return hashlib.md5(s.encode('utf-8')).hexdigest()


ATTRS = {
    'str': {'DataType': 'String', 'StringValue': 'héllo & <wharf>'},
    'num': {'DataType': 'Number', 'StringValue': '-12.5e3'},
    'bin': {'DataType': 'Binary', 'BinaryValue': b'\x00\x01\xfe\xff'},
    'str.custom': {'DataType': 'String.json', 'StringValue': '{"a":1}'},
    'num.custom': {'DataType': 'Number.int', 'StringValue': '42'},
    'bin.custom': {'DataType': 'Binary.png', 'BinaryValue': b'\x89PNG'},
}
TRACE = {'AWSTraceHeader': {'DataType': 'String', 'StringValue': 'Root=1-5759e988-bd862e3fe1be46a994272793'}}


def receive_all(url, want, **kwargs):
    """Receives until `want` messages arrived (a receive may return fewer than asked)."""
    got = {}
    deadline = time.time() + 10
    while len(got) < want and time.time() < deadline:
        r = call('ReceiveMessage', QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs)
        for m in r.get('Messages', []):
            got[m['MessageId']] = m
    eq(len(got), want, f'messages received from {url}')
    return got


def queue_attrs(url, *names):
    return call('GetQueueAttributes', QueueUrl=url, AttributeNames=list(names) or ['All']).get('Attributes', {})


def exercise(kind):
    fifo = kind == 'fifo'
    suffix = '.fifo' if fifo else ''
    name = f'boto-{kind}{suffix}'
    dlq_name = f'boto-{kind}-dlq{suffix}'
    out = {}

    # create with attributes and tags; a dead-letter queue for the redrive checks
    attributes = {'VisibilityTimeout': '45', 'MessageRetentionPeriod': '86400', 'MaximumMessageSize': '262144'}
    if fifo:
        attributes.update(
            FifoQueue='true',
            ContentBasedDeduplication='true',
            DeduplicationScope='messageGroup',
            FifoThroughputLimit='perMessageGroupId',
        )
    url = call('CreateQueue', QueueName=name, Attributes=attributes, tags={'team': 'wharf', 'env': 'test'})['QueueUrl']
    eq(url, f'{ENDPOINT}/{ACCOUNT}/{name}', 'queue url')
    # the same attributes again: idempotent; a different value: QueueAlreadyExists
    eq(call('CreateQueue', QueueName=name, Attributes=attributes)['QueueUrl'], url, 'idempotent CreateQueue')
    changed = {**attributes, 'VisibilityTimeout': '46'}
    expect_error('QueueAlreadyExists', 'CreateQueue', QueueName=name, Attributes=changed)
    dlq = call('CreateQueue', QueueName=dlq_name, Attributes={'FifoQueue': 'true'} if fifo else {})['QueueUrl']
    eq(call('GetQueueUrl', QueueName=name)['QueueUrl'], url, 'GetQueueUrl')
    eq(call('GetQueueUrl', QueueName=name, QueueOwnerAWSAccountId=ACCOUNT)['QueueUrl'], url, 'GetQueueUrl with owner')

    listed = call('ListQueues', QueueNamePrefix=f'boto-{kind}').get('QueueUrls', [])
    eq(sorted(listed), sorted([url, dlq]), 'ListQueues by prefix')
    page1 = call('ListQueues', QueueNamePrefix=f'boto-{kind}', MaxResults=1)
    eq(len(page1['QueueUrls']), 1, 'ListQueues page size')
    check(page1.get('NextToken'), 'ListQueues NextToken')
    page2 = call('ListQueues', QueueNamePrefix=f'boto-{kind}', MaxResults=1, NextToken=page1['NextToken'])
    eq(sorted(page1['QueueUrls'] + page2['QueueUrls']), sorted([url, dlq]), 'ListQueues pages')
    check('QueueUrls' not in call('ListQueues', QueueNamePrefix='no-such-prefix'), 'ListQueues with no match')

    a = queue_attrs(url)
    arn = f'arn:aws:sqs:{REGION}:{ACCOUNT}:{name}'
    eq(a['QueueArn'], arn, 'QueueArn')
    eq(a['VisibilityTimeout'], '45', 'VisibilityTimeout')
    eq(a['MessageRetentionPeriod'], '86400', 'MessageRetentionPeriod')
    eq(a['MaximumMessageSize'], '262144', 'MaximumMessageSize')
    eq(a['DelaySeconds'], '0', 'default DelaySeconds')
    eq(a['ApproximateNumberOfMessages'], '0', 'empty queue')
    check(abs(int(a['CreatedTimestamp']) - time.time()) < 600, 'CreatedTimestamp is epoch seconds')
    if fifo:
        eq(a['FifoQueue'], 'true', 'FifoQueue')
        eq(a['ContentBasedDeduplication'], 'true', 'ContentBasedDeduplication')
        eq(a['DeduplicationScope'], 'messageGroup', 'DeduplicationScope')
        eq(a['FifoThroughputLimit'], 'perMessageGroupId', 'FifoThroughputLimit')
    else:
        check('FifoQueue' not in a, 'no FifoQueue on a standard queue')
    eq(set(queue_attrs(url, 'VisibilityTimeout', 'QueueArn')), {'VisibilityTimeout', 'QueueArn'}, 'named attributes')
    expect_error('InvalidAttributeName', 'GetQueueAttributes', QueueUrl=url, AttributeNames=['NoSuchAttribute'])

    # set attributes, including a redrive policy to the DLQ
    dlq_arn = queue_attrs(dlq, 'QueueArn')['QueueArn']
    redrive = json.dumps({'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': 5})
    call('SetQueueAttributes', QueueUrl=url, Attributes={'VisibilityTimeout': '60', 'RedrivePolicy': redrive})
    a = queue_attrs(url, 'VisibilityTimeout', 'RedrivePolicy')
    eq(a['VisibilityTimeout'], '60', 'VisibilityTimeout after SetQueueAttributes')
    eq(json.loads(a['RedrivePolicy']), {'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': 5}, 'RedrivePolicy')
    expect_error('InvalidAttributeValue', 'SetQueueAttributes', QueueUrl=url, Attributes={'VisibilityTimeout': '99999'})
    eq(call('ListDeadLetterSourceQueues', QueueUrl=dlq)['queueUrls'], [url], 'ListDeadLetterSourceQueues')
    eq(call('ListDeadLetterSourceQueues', QueueUrl=url).get('queueUrls', []), [], 'ListDeadLetterSourceQueues (none)')

    # tags
    eq(call('ListQueueTags', QueueUrl=url)['Tags'], {'team': 'wharf', 'env': 'test'}, 'tags from CreateQueue')
    call('TagQueue', QueueUrl=url, Tags={'owner': 'me', 'empty': ''})
    call('UntagQueue', QueueUrl=url, TagKeys=['env', 'not-there'])
    eq(call('ListQueueTags', QueueUrl=url)['Tags'], {'team': 'wharf', 'owner': 'me', 'empty': ''}, 'tags after edits')

    # permissions: a policy statement appears and goes again
    call('AddPermission', QueueUrl=url, Label='p1', AWSAccountIds=['111111111111'], Actions=['SendMessage'])
    call(
        'AddPermission',
        QueueUrl=url,
        Label='p2',
        AWSAccountIds=['111111111111', '222222222222'],
        Actions=['ReceiveMessage', 'DeleteMessage'],
    )
    policy = json.loads(queue_attrs(url, 'Policy')['Policy'])
    eq([s['Sid'] for s in policy['Statement']], ['p1', 'p2'], 'policy statements')
    eq(policy['Statement'][0]['Principal'], {'AWS': 'arn:aws:iam::111111111111:root'}, 'policy principal')
    eq(policy['Statement'][0]['Action'], 'SQS:SendMessage', 'policy action')
    eq(policy['Statement'][1]['Action'], ['SQS:ReceiveMessage', 'SQS:DeleteMessage'], 'policy actions')
    eq(policy['Statement'][0]['Resource'], arn, 'policy resource')
    expect_error(
        'InvalidParameterValue',
        'AddPermission',
        QueueUrl=url,
        Label='p1',
        AWSAccountIds=['111111111111'],
        Actions=['SendMessage'],
    )
    call('RemovePermission', QueueUrl=url, Label='p1')
    call('RemovePermission', QueueUrl=url, Label='p2')
    check('Policy' not in queue_attrs(url, 'Policy'), 'policy removed with its last statement')
    expect_error('InvalidParameterValue', 'RemovePermission', QueueUrl=url, Label='p1')

    # send: every attribute type, a system attribute, and digests checked against our own computation
    group = {'MessageGroupId': 'g1'} if fifo else {}
    body1 = 'first body: ünïcödé 😀 & <xml> "quotes"\r\nsecond line'
    sent = call(
        'SendMessage', QueueUrl=url, MessageBody=body1, MessageAttributes=ATTRS, MessageSystemAttributes=TRACE, **group
    )
    eq(sent['MD5OfMessageBody'], md5(body1), 'MD5OfMessageBody')
    eq(sent['MD5OfMessageAttributes'], md5_of_attributes(ATTRS), 'MD5OfMessageAttributes')
    eq(sent['MD5OfMessageSystemAttributes'], md5_of_attributes(TRACE), 'MD5OfMessageSystemAttributes')
    if fifo:
        check(sent.get('SequenceNumber', '').isdigit(), 'FIFO SequenceNumber')
        # content-based deduplication: the same body again is accepted and answered with the first MessageId
        again = call('SendMessage', QueueUrl=url, MessageBody=body1, MessageAttributes=ATTRS, **group)
        eq(again['MessageId'], sent['MessageId'], 'deduplicated send')
    else:
        expect_error('InvalidParameterValue', 'SendMessage', QueueUrl=url, MessageBody='x', MessageDeduplicationId='d')
    expect_error('InvalidParameterValue', 'SendMessage', QueueUrl=url, MessageBody='x' * 262145, **group)

    entries = [
        {'Id': 'e-str', 'MessageBody': 'batch string', 'MessageAttributes': {'s': ATTRS['str'], 'c': ATTRS['str.custom']}},
        {'Id': 'e-num', 'MessageBody': 'batch number', 'MessageAttributes': {'n': ATTRS['num'], 'c': ATTRS['num.custom']}},
        {'Id': 'e-bin', 'MessageBody': 'batch binary', 'MessageAttributes': {'b': ATTRS['bin'], 'c': ATTRS['bin.custom']}},
        {'Id': 'e_bad', 'MessageBody': 'bad \x01 character'},
    ]
    for i, e in enumerate(entries):
        if fifo:
            e['MessageGroupId'] = 'g2' if i % 2 else 'g1'
            e['MessageDeduplicationId'] = f'dedup-{i}'
        else:
            e['DelaySeconds'] = 0
    batch = call('SendMessageBatch', QueueUrl=url, Entries=entries)
    ok = {r['Id']: r for r in batch['Successful']}
    eq(sorted(ok), ['e-bin', 'e-num', 'e-str'], 'SendMessageBatch successes')
    for e in entries[:3]:
        eq(ok[e['Id']]['MD5OfMessageBody'], md5(e['MessageBody']), f'{e["Id"]} MD5OfMessageBody')
        want = md5_of_attributes(e['MessageAttributes'])
        eq(ok[e['Id']]['MD5OfMessageAttributes'], want, f'{e["Id"]} attributes MD5')
    failed = [(f['Id'], f['Code'], f['SenderFault']) for f in batch['Failed']]
    eq(failed, [('e_bad', 'InvalidMessageContents', True)], 'failed entry')
    eleven = [{'Id': f'i{i}', 'MessageBody': f'x{i}', **group} for i in range(11)]
    expect_error('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'SendMessageBatch', QueueUrl=url, Entries=eleven)
    same = [{'Id': 'same', 'MessageBody': 'x', **group}, {'Id': 'same', 'MessageBody': 'y', **group}]
    expect_error('AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'SendMessageBatch', QueueUrl=url, Entries=same)
    eq(queue_attrs(url, 'ApproximateNumberOfMessages')['ApproximateNumberOfMessages'], '4', 'four messages stored')

    # receive with every attribute
    if fifo:
        first = call('ReceiveMessage', QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=['All'],
                     MessageAttributeNames=['All'], ReceiveRequestAttemptId='attempt-1')
        msgs = {m['MessageId']: m for m in first['Messages']}
        # FIFO: every available message comes back in group order in one receive (two groups, four messages)
        eq(len(msgs), 4, 'FIFO receive returns every message of both groups')
        g1 = [m for m in first['Messages'] if m['Attributes']['MessageGroupId'] == 'g1']
        seqs = [int(m['Attributes']['SequenceNumber']) for m in g1]
        eq(seqs, sorted(seqs), 'FIFO order within a group')
        # a retry with the same ReceiveRequestAttemptId gets the same messages and receipt handles
        retry = call('ReceiveMessage', QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId='attempt-1')
        handles = [m['ReceiptHandle'] for m in first['Messages']]
        eq([m['ReceiptHandle'] for m in retry['Messages']], handles, 'attempt id retry')
    else:
        msgs = receive_all(url, 4, AttributeNames=['All'], MessageAttributeNames=['All'])
    m1 = msgs[sent['MessageId']]
    eq(m1['Body'], body1, 'body round trip')
    eq(m1['MD5OfBody'], md5(body1), 'MD5OfBody')
    eq(m1['MessageAttributes'], ATTRS, 'message attributes round trip')
    eq(m1['MD5OfMessageAttributes'], md5_of_attributes(ATTRS), 'received MD5OfMessageAttributes')
    sysattrs = m1['Attributes']
    eq(sysattrs['ApproximateReceiveCount'], '1', 'ApproximateReceiveCount')
    eq(sysattrs['SenderId'], 'AKIDBOTO3EXAMPLE', 'SenderId')
    eq(sysattrs['AWSTraceHeader'], TRACE['AWSTraceHeader']['StringValue'], 'AWSTraceHeader')
    check(abs(int(sysattrs['SentTimestamp']) / 1000 - time.time()) < 600, 'SentTimestamp is epoch ms')
    first_receive = int(sysattrs['ApproximateFirstReceiveTimestamp'])
    check(first_receive >= int(sysattrs['SentTimestamp']), 'first receive after send')
    if fifo:
        eq(sysattrs['MessageGroupId'], 'g1', 'MessageGroupId')
        eq(sysattrs['MessageDeduplicationId'], hashlib.sha256(body1.encode()).hexdigest(), 'content-based dedup id')
        check(sysattrs['SequenceNumber'] == sent['SequenceNumber'], 'SequenceNumber on receive')
    a = queue_attrs(url, 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible')
    eq((a['ApproximateNumberOfMessages'], a['ApproximateNumberOfMessagesNotVisible']), ('0', '4'), 'all in flight')

    # change visibility: m1 back to visible, then receive it with a subset of attributes
    call('ChangeMessageVisibility', QueueUrl=url, ReceiptHandle=m1['ReceiptHandle'], VisibilityTimeout=0)
    again = receive_all(
        url, 1, AttributeNames=['ApproximateReceiveCount', 'SentTimestamp'], MessageAttributeNames=['num.*', 'str']
    )
    r1 = again[sent['MessageId']]
    eq(set(r1['Attributes']), {'ApproximateReceiveCount', 'SentTimestamp'}, 'named system attributes only')
    eq(r1['Attributes']['ApproximateReceiveCount'], '2', 'second receive counted')
    # AWS reads 'num.*' as the prefix 'num': it matches 'num' and 'num.custom'
    subset = {k: ATTRS[k] for k in ('num', 'num.custom', 'str')}
    eq(r1['MessageAttributes'], subset, 'message attributes filtered by name and prefix')
    eq(r1['MD5OfMessageAttributes'], md5_of_attributes(subset), 'digest over the returned attributes only')
    old_handle = m1['ReceiptHandle']
    m1 = r1
    none = call('ReceiveMessage', QueueUrl=url, MaxNumberOfMessages=10)
    check('Messages' not in none, 'nothing visible')

    others = [m for mid, m in msgs.items() if mid != sent['MessageId']]
    cv = call(
        'ChangeMessageVisibilityBatch',
        QueueUrl=url,
        Entries=[
            {'Id': 'a', 'ReceiptHandle': others[0]['ReceiptHandle'], 'VisibilityTimeout': 120},
            {'Id': 'b', 'ReceiptHandle': others[1]['ReceiptHandle'], 'VisibilityTimeout': 300},
            {'Id': 'c', 'ReceiptHandle': 'not-a-handle', 'VisibilityTimeout': 10},
        ],
    )
    eq(sorted(s['Id'] for s in cv['Successful']), ['a', 'b'], 'ChangeMessageVisibilityBatch successes')
    failed = [(f['Id'], f['Code']) for f in cv['Failed']]
    eq(failed, [('c', 'ReceiptHandleIsInvalid')], 'ChangeMessageVisibilityBatch failure')
    expect_error(
        'ReceiptHandleIsInvalid', 'ChangeMessageVisibility', QueueUrl=url, ReceiptHandle='garbage', VisibilityTimeout=1
    )

    # delete one, delete the rest in a batch (with one bad handle)
    call('DeleteMessage', QueueUrl=url, ReceiptHandle=m1['ReceiptHandle'])
    if not fifo:
        call('DeleteMessage', QueueUrl=url, ReceiptHandle=old_handle)  # a stale handle: accepted, deletes nothing
    expect_error('ReceiptHandleIsInvalid', 'DeleteMessage', QueueUrl=url, ReceiptHandle='garbage')
    db = call(
        'DeleteMessageBatch',
        QueueUrl=url,
        Entries=[{'Id': f'd{i}', 'ReceiptHandle': m['ReceiptHandle']} for i, m in enumerate(others)]
        + [{'Id': 'bad', 'ReceiptHandle': 'garbage'}],
    )
    eq(sorted(s['Id'] for s in db['Successful']), ['d0', 'd1', 'd2'], 'DeleteMessageBatch successes')
    eq([(f['Id'], f['Code']) for f in db['Failed']], [('bad', 'ReceiptHandleIsInvalid')], 'DeleteMessageBatch failure')
    a = queue_attrs(
        url, 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'
    )
    eq(sorted(a.values()), ['0', '0', '0'], 'queue empty after deletes')

    # purge: a second purge within 60 s is refused
    for i in range(3):
        call('SendMessage', QueueUrl=url, MessageBody=f'to purge {i}', **group)
    eq(queue_attrs(url, 'ApproximateNumberOfMessages')['ApproximateNumberOfMessages'], '3', 'before purge')
    call('PurgeQueue', QueueUrl=url)
    eq(queue_attrs(url, 'ApproximateNumberOfMessages')['ApproximateNumberOfMessages'], '0', 'after purge')
    err = expect_error('AWS.SimpleQueueService.PurgeQueueInProgress', 'PurgeQueue', QueueUrl=url)
    eq(err.response['ResponseMetadata']['HTTPStatusCode'], 403, 'PurgeQueueInProgress status')
    check(isinstance(err, sqs.exceptions.PurgeQueueInProgress), 'botocore maps the code to its modelled exception')

    # delete the queues; the name is gone
    call('DeleteQueue', QueueUrl=url)
    call('DeleteQueue', QueueUrl=dlq)
    err = expect_error('AWS.SimpleQueueService.NonExistentQueue', 'GetQueueUrl', QueueName=name)
    check(isinstance(err, sqs.exceptions.QueueDoesNotExist), 'QueueDoesNotExist exception class')
    expect_error('AWS.SimpleQueueService.NonExistentQueue', 'SendMessage', QueueUrl=url, MessageBody='x', **group)
    out['queueUrl'] = url
    out['queueArn'] = arn
    return out


def main():
    summary = {
        'ok': False,
        'endpoint': ENDPOINT,
        'region': REGION,
        'boto3': boto3.__version__,
        'botocore': botocore.__version__,
    }
    try:
        eq(sqs.meta.service_model.protocol, 'query', 'botocore SQS protocol')
        summary['standard'] = exercise('standard')
        summary['fifo'] = exercise('fifo')
        move_ops = ('start_message_move_task', 'list_message_move_tasks', 'cancel_message_move_task')
        eq([op for op in move_ops if hasattr(sqs, op)], [], 'botocore 1.29 has no message move task APIs')
        summary['notes'] = [
            'StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask are not in botocore 1.29: not exercised'
        ]
        summary['ok'] = True
    except Exception as e:  # noqa: BLE001 - the summary carries any failure
        summary['error'] = f'{type(e).__name__}: {e}'
        summary['trace'] = traceback.format_exc()
    summary['actions'] = sorted(called)
    summary['checks'] = checks
    print(json.dumps(summary))
    return 0 if summary['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
