/*
 * The plugin contract (sdk/abi/contract.json) for C: ABI version, status codes and frame layouts.
 * Included by x0t.h (after the frame types). Kept in step with contract.json by hand; test/integration/plugins-pqc/c-contract.test.ts compares them.
 */
#ifndef X0T_CONTRACT_H
#define X0T_CONTRACT_H

#define X0T_ABI_VERSION 1

#define X0T_STATUS_OK 0
#define X0T_STATUS_BAD_INPUT (-1)
#define X0T_STATUS_INTERNAL (-2)
#define X0T_STATUS_UNSUPPORTED (-3)

/* Frame magics: the four ASCII characters read as a little-endian u32. */
#define X0T_MAGIC_F32Vector 0x56323346u        /* "F32V" */
#define X0T_MAGIC_F64Vector 0x56343646u        /* "F64V" */
#define X0T_MAGIC_AggregateRequest 0x31524741u /* "AGR1" */
#define X0T_MAGIC_KemInfo 0x494d454bu          /* "KEMI" */
#define X0T_MAGIC_SignerInfo 0x49474953u       /* "SIGI" */
#define X0T_MAGIC_KeyPair 0x5059454bu          /* "KEYP" */
#define X0T_MAGIC_EncapsRequest 0x434e454bu    /* "KENC" */
#define X0T_MAGIC_Encapsulation 0x524e454bu    /* "KENR" */
#define X0T_MAGIC_DecapsRequest 0x4345444bu    /* "KDEC" */
#define X0T_MAGIC_SignRequest 0x4e474953u      /* "SIGN" */
#define X0T_MAGIC_VerifyRequest 0x59465256u    /* "VRFY" */
#define X0T_MAGIC_TrainerInfo 0x494e5254u       /* "TRNI" */
#define X0T_MAGIC_TrainerInit 0x4e495254u       /* "TRIN" */
#define X0T_MAGIC_TrainRequest 0x514e5254u      /* "TRNQ" */
#define X0T_MAGIC_TrainResult 0x524e5254u       /* "TRNR" */
#define X0T_MAGIC_EvaluateRequest 0x51564554u   /* "TEVQ" */
#define X0T_MAGIC_EvaluateResult 0x52564554u    /* "TEVR" */
#define X0T_MAGIC_IndexConfig 0x31434e48u /* "HNC1" */
#define X0T_MAGIC_IndexInfo 0x31494e48u /* "HNI1" */
#define X0T_MAGIC_IndexAdd 0x31414e48u /* "HNA1" */
#define X0T_MAGIC_LabelList 0x314c424cu /* "LBL1" */
#define X0T_MAGIC_SearchRequest 0x31514e48u /* "HNQ1" */
#define X0T_MAGIC_SearchResult 0x31524e48u /* "HNR1" */
#define X0T_MAGIC_IndexChunk 0x314b4e48u /* "HNK1" */
#define X0T_MAGIC_SaveRequest 0x31574e48u /* "HNW1" */
#define X0T_MAGIC_EmbedderInfo 0x49424d45u /* "EMBI" */
#define X0T_MAGIC_TextBatch 0x31425854u /* "TXB1" */
#define X0T_MAGIC_EmbeddingBatch 0x42424d45u /* "EMBB" */

/* Header field indexes of each frame (the order of contract.json "header"). */
enum { X0T_F32Vector_len };
enum { X0T_F64Vector_len };
enum { X0T_AggregateRequest_clients, X0T_AggregateRequest_dim };
enum {
  X0T_KemInfo_publicKeyBytes, X0T_KemInfo_secretKeyBytes, X0T_KemInfo_ciphertextBytes,
  X0T_KemInfo_sharedSecretBytes, X0T_KemInfo_seedBytes, X0T_KemInfo_randomnessBytes
};
enum {
  X0T_SignerInfo_publicKeyBytes, X0T_SignerInfo_secretKeyBytes, X0T_SignerInfo_signatureBytes,
  X0T_SignerInfo_seedBytes, X0T_SignerInfo_maxContextBytes
};
enum { X0T_KeyPair_publicKeyLen, X0T_KeyPair_secretKeyLen };
enum { X0T_EncapsRequest_publicKeyLen, X0T_EncapsRequest_randomnessLen };
enum { X0T_Encapsulation_ciphertextLen, X0T_Encapsulation_sharedSecretLen };
enum { X0T_DecapsRequest_secretKeyLen, X0T_DecapsRequest_ciphertextLen };
enum { X0T_SignRequest_flags, X0T_SignRequest_secretKeyLen, X0T_SignRequest_contextLen, X0T_SignRequest_messageLen };
enum {
  X0T_VerifyRequest_publicKeyLen, X0T_VerifyRequest_contextLen, X0T_VerifyRequest_messageLen,
  X0T_VerifyRequest_signatureLen
};

enum {
  X0T_TrainerInfo_maxInputs, X0T_TrainerInfo_maxHidden, X0T_TrainerInfo_maxClasses, X0T_TrainerInfo_maxRank, X0T_TrainerInfo_maxBatch, X0T_TrainerInfo_maxSamples, X0T_TrainerInfo_features
};
enum {
  X0T_TrainerInit_inputs, X0T_TrainerInit_hidden, X0T_TrainerInit_classes, X0T_TrainerInit_rank, X0T_TrainerInit_seed
};
enum {
  X0T_TrainRequest_inputs, X0T_TrainRequest_hidden, X0T_TrainRequest_classes, X0T_TrainRequest_rank, X0T_TrainRequest_mode, X0T_TrainRequest_steps, X0T_TrainRequest_batch, X0T_TrainRequest_seed, X0T_TrainRequest_samples, X0T_TrainRequest_hyperLen, X0T_TrainRequest_paramsLen, X0T_TrainRequest_adaptersLen
};
enum {
  X0T_TrainResult_steps, X0T_TrainResult_deltaLen
};
enum {
  X0T_EvaluateRequest_inputs, X0T_EvaluateRequest_hidden, X0T_EvaluateRequest_classes, X0T_EvaluateRequest_rank, X0T_EvaluateRequest_samples, X0T_EvaluateRequest_hyperLen, X0T_EvaluateRequest_paramsLen, X0T_EvaluateRequest_adaptersLen
};
enum {
  X0T_EvaluateResult_count, X0T_EvaluateResult_correct
};
enum { X0T_IndexConfig_dim, X0T_IndexConfig_metric, X0T_IndexConfig_m, X0T_IndexConfig_efConstruction, X0T_IndexConfig_efSearch, X0T_IndexConfig_capacity, X0T_IndexConfig_seed };
enum { X0T_IndexInfo_dim, X0T_IndexInfo_metric, X0T_IndexInfo_m, X0T_IndexInfo_efConstruction, X0T_IndexInfo_efSearch, X0T_IndexInfo_capacity, X0T_IndexInfo_count, X0T_IndexInfo_deleted, X0T_IndexInfo_memoryBytes };
enum { X0T_IndexAdd_count, X0T_IndexAdd_dim };
enum { X0T_LabelList_count };
enum { X0T_SearchRequest_queries, X0T_SearchRequest_dim, X0T_SearchRequest_k, X0T_SearchRequest_ef, X0T_SearchRequest_filterBytes };
enum { X0T_SearchResult_queries, X0T_SearchResult_k };
enum { X0T_IndexChunk_totalBytes, X0T_IndexChunk_offset, X0T_IndexChunk_len };
enum { X0T_SaveRequest_offset, X0T_SaveRequest_maxBytes };
enum { X0T_EmbedderInfo_dim, X0T_EmbedderInfo_maxInputUnits, X0T_EmbedderInfo_normalized };
enum { X0T_TextBatch_count, X0T_TextBatch_bytesLen, X0T_TextBatch_weightsLen };
enum { X0T_EmbeddingBatch_count, X0T_EmbeddingBatch_dim };

/* Section indexes (the order of contract.json "sections"). */
enum { X0T_F32Vector_values };
enum { X0T_F64Vector_values };
enum { X0T_AggregateRequest_weights, X0T_AggregateRequest_updates };
enum { X0T_KeyPair_publicKey, X0T_KeyPair_secretKey };
enum { X0T_EncapsRequest_publicKey, X0T_EncapsRequest_randomness };
enum { X0T_Encapsulation_ciphertext, X0T_Encapsulation_sharedSecret };
enum { X0T_DecapsRequest_secretKey, X0T_DecapsRequest_ciphertext };
enum { X0T_SignRequest_secretKey, X0T_SignRequest_context, X0T_SignRequest_message };
enum { X0T_VerifyRequest_publicKey, X0T_VerifyRequest_context, X0T_VerifyRequest_message, X0T_VerifyRequest_signature };
enum { X0T_TrainRequest_hyper, X0T_TrainRequest_params, X0T_TrainRequest_adapters, X0T_TrainRequest_x, X0T_TrainRequest_y };
enum { X0T_TrainResult_losses, X0T_TrainResult_delta };
enum { X0T_EvaluateRequest_hyper, X0T_EvaluateRequest_params, X0T_EvaluateRequest_adapters, X0T_EvaluateRequest_x, X0T_EvaluateRequest_y };
enum { X0T_EvaluateResult_losses, X0T_EvaluateResult_predicted };
enum { X0T_IndexAdd_labels, X0T_IndexAdd_vectors };
enum { X0T_LabelList_labels };
enum { X0T_SearchRequest_vectors, X0T_SearchRequest_filter };
enum { X0T_SearchResult_labels, X0T_SearchResult_distances };
enum { X0T_IndexChunk_data };
enum { X0T_TextBatch_ends, X0T_TextBatch_utf8, X0T_TextBatch_weights };
enum { X0T_EmbeddingBatch_vectors };

/* Layouts, for x0t_frame_decode / x0t_frame_write (defined in x0t.c; unused ones are dropped at link). */
extern const x0t_frame_layout X0T_FRAME_F32Vector;
extern const x0t_frame_layout X0T_FRAME_F64Vector;
extern const x0t_frame_layout X0T_FRAME_AggregateRequest;
extern const x0t_frame_layout X0T_FRAME_KemInfo;
extern const x0t_frame_layout X0T_FRAME_SignerInfo;
extern const x0t_frame_layout X0T_FRAME_KeyPair;
extern const x0t_frame_layout X0T_FRAME_EncapsRequest;
extern const x0t_frame_layout X0T_FRAME_Encapsulation;
extern const x0t_frame_layout X0T_FRAME_DecapsRequest;
extern const x0t_frame_layout X0T_FRAME_SignRequest;
extern const x0t_frame_layout X0T_FRAME_VerifyRequest;
extern const x0t_frame_layout X0T_FRAME_TrainerInfo;
extern const x0t_frame_layout X0T_FRAME_TrainerInit;
extern const x0t_frame_layout X0T_FRAME_TrainRequest;
extern const x0t_frame_layout X0T_FRAME_TrainResult;
extern const x0t_frame_layout X0T_FRAME_EvaluateRequest;
extern const x0t_frame_layout X0T_FRAME_EvaluateResult;
extern const x0t_frame_layout X0T_FRAME_IndexConfig;
extern const x0t_frame_layout X0T_FRAME_IndexInfo;
extern const x0t_frame_layout X0T_FRAME_IndexAdd;
extern const x0t_frame_layout X0T_FRAME_LabelList;
extern const x0t_frame_layout X0T_FRAME_SearchRequest;
extern const x0t_frame_layout X0T_FRAME_SearchResult;
extern const x0t_frame_layout X0T_FRAME_IndexChunk;
extern const x0t_frame_layout X0T_FRAME_SaveRequest;
extern const x0t_frame_layout X0T_FRAME_EmbedderInfo;
extern const x0t_frame_layout X0T_FRAME_TextBatch;
extern const x0t_frame_layout X0T_FRAME_EmbeddingBatch;

#endif
